//! `qapi-gen`: generate qwire codecs from QAPI schema files.
//!
//! ```text
//! qapi-gen --schema FILE [--schema FILE]... [--allow-missing-include PATH]...
//!          [--capacities FILE --section NAME] [--runtime crate|qwire]
//!          [--title NAME] --output FILE [--check]
//! ```
//!
//! Paths are relative to the current directory (run it from the workspace
//! root). `--check` compares instead of writing and fails on a difference.
//! `qapi-gen --shipped [--check]` runs the jobs for qwire's own codecs
//! ([`qapi_gen::shipped_jobs`]); each generated file's header also spells
//! out its job as a full command line.

use std::process::ExitCode;

use qapi_gen::{generate, shipped_jobs, Options};

/// Run one job; write its output, or with `check` compare it.
fn run(opts: &Options, check: bool) -> ExitCode {
    let (text, counts) = match generate(opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("qapi-gen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = opts.root.join(&opts.output);
    if check {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != text {
            eprintln!("qapi-gen: {} is stale; regenerate it", opts.output);
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("qapi-gen: cannot write {}: {e}", opts.output);
        return ExitCode::FAILURE;
    }
    eprintln!(
        "qapi-gen: wrote {} (commands {}, structs {}, enums {}, unions {}, alternates {}, events {})",
        opts.output, counts.commands, counts.structs, counts.enums, counts.unions, counts.alternates, counts.events
    );
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: qapi-gen --schema FILE... [--allow-missing-include PATH]... \
         [--capacities FILE --section NAME] [--runtime crate|qwire] [--title NAME] --output FILE [--check]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut opts = Options {
        root: ".".into(),
        section: "default".into(),
        runtime: "qwire".into(),
        title: "QAPI".into(),
        ..Options::default()
    };
    let mut check = false;
    let mut shipped = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next();
        match arg.as_str() {
            "--schema" => match value() {
                Some(v) => opts.schemas.push(v),
                None => return usage(),
            },
            "--allow-missing-include" => match value() {
                Some(v) => opts.allow_missing.extend(v.split(',').map(str::to_string)),
                None => return usage(),
            },
            "--capacities" => opts.capacities = value(),
            "--section" => match value() {
                Some(v) => opts.section = v,
                None => return usage(),
            },
            "--runtime" => match value() {
                Some(v) => opts.runtime = v,
                None => return usage(),
            },
            "--title" => match value() {
                Some(v) => opts.title = v,
                None => return usage(),
            },
            "--output" => match value() {
                Some(v) => opts.output = v,
                None => return usage(),
            },
            "--check" => check = true,
            "--shipped" => shipped = true,
            "-h" | "--help" => {
                usage();
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        }
    }
    if shipped {
        for job in shipped_jobs(&opts.root) {
            let code = run(&job, check);
            if code != ExitCode::SUCCESS {
                return code;
            }
        }
        return ExitCode::SUCCESS;
    }
    if opts.schemas.is_empty() || opts.output.is_empty() {
        return usage();
    }
    run(&opts, check)
}
