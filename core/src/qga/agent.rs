//! The guest side: [`Agent`] answers requests the way qemu-ga does.
//!
//! See the [module documentation](super) for the contract.

use core::fmt;

use crate::codec::{self, CommandInfo, Mode};
use crate::dispatch::{self, ErrorClass, Handler, Outcome, Output, Reply, Request};
use crate::framer::{Config, Event, Framer};
use crate::json::{EncodeWith, Json, JsonWriter, WriteError};
use crate::qga::schema::{GuestInfo, GuestPing, GuestSync, GuestSyncDelimited};

/// The commands the agent answers itself, in the order `guest-info` lists
/// them first.
pub const BUILTINS: &[CommandInfo] = &[
    builtin(<GuestSyncDelimited as codec::Command>::NAME, true),
    builtin(<GuestSync as codec::Command>::NAME, true),
    builtin(<GuestPing as codec::Command>::NAME, false),
    builtin(<GuestInfo as codec::Command>::NAME, false),
];

const fn builtin(name: &'static str, has_args: bool) -> CommandInfo {
    CommandInfo {
        name,
        success_response: true,
        allow_oob: false,
        has_args,
    }
}

/// QGA's line terminator: qemu-ga ends every reply with a single `\n`.
pub const TERMINATOR: &[u8] = b"\n";

/// The sentinel qemu-ga writes before the reply to `guest-sync-delimited`.
pub const SENTINEL: u8 = 0xff;

/// Why [`Agent::new`] refused its buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgentError {
    /// The output buffer is smaller than [`dispatch::MIN_OUTPUT`], so some
    /// error replies could not be written.
    OutputTooSmall {
        /// The size given.
        len: usize,
        /// The least accepted ([`dispatch::MIN_OUTPUT`]).
        min: usize,
    },
    /// The input buffer is empty: no request could ever be stored.
    InputEmpty,
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentError::OutputTooSmall { len, min } => {
                write!(
                    f,
                    "output buffer of {len} bytes is below the minimum of {min}"
                )
            }
            AgentError::InputEmpty => f.write_str("input buffer is empty"),
        }
    }
}

impl core::error::Error for AgentError {}

/// What one call of [`Agent::feed`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step<'o> {
    /// Bytes of the input used. Feed the rest again (after writing
    /// `reply`).
    pub consumed: usize,
    /// Bytes to send to the host now: at most one reply, with its `\n`
    /// (and a leading 0xFF for `guest-sync-delimited`). Empty when the
    /// input held no complete request, or when a `success-response: false`
    /// command succeeded.
    pub reply: &'o [u8],
    /// What happened, for logs and counters.
    pub activity: Activity,
}

/// What an [`Agent::feed`] step handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activity {
    /// The input was used up without completing a request.
    Idle,
    /// A request ran (a built-in or the handler's command, successful or
    /// not).
    Command,
    /// A request was refused before any command ran (not an object, bad
    /// members, unknown or disabled command).
    Refused,
    /// Bytes that are not JSON, a 0xFF, or a request too large or too deep
    /// were answered with qemu-ga's parse error.
    FramingError,
}

/// A QGA agent: feed it the host's bytes, send back what it writes.
///
/// Holds a framer over the caller's input buffer (the largest request it
/// can store) and the caller's output buffer (the largest reply it can
/// write). `size_of::<Agent>()` is 224 bytes on 64-bit targets (see
/// `docs/QGA.md`); the buffers are the caller's.
///
/// ```
/// use qwire::codec::CommandInfo;
/// use qwire::dispatch::{Answered, Call, Handler, Reply};
/// use qwire::qga::Agent;
///
/// struct NoCommands;
/// impl Handler for NoCommands {
///     fn commands(&self) -> &[CommandInfo] { &[] }
///     fn call(&mut self, _: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
///         reply.ok_empty()
///     }
/// }
///
/// let (mut input, mut output) = ([0u8; 512], [0u8; 2048]);
/// let mut agent = Agent::new(&mut input, &mut output, "1.0").unwrap();
/// let step = agent.feed(b"{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":7}}", &mut NoCommands);
/// assert_eq!(step.reply, b"\xff{\"return\":7}\n");
/// ```
#[derive(Debug)]
pub struct Agent<'b> {
    framer: Framer<'b>,
    out: &'b mut [u8],
    version: &'b str,
}

impl<'b> Agent<'b> {
    /// An agent storing partial requests in `input` (its length bounds the
    /// largest request; a larger one is answered with an error) and writing
    /// replies into `output`. `version` is what `guest-info` reports.
    ///
    /// Input is read in QEMU's dialect (single-quoted strings accepted),
    /// nesting up to 1024 levels, as qemu-ga does.
    ///
    /// # Errors
    ///
    /// [`AgentError::OutputTooSmall`] when `output` is shorter than
    /// [`dispatch::MIN_OUTPUT`]; [`AgentError::InputEmpty`].
    pub fn new(
        input: &'b mut [u8],
        output: &'b mut [u8],
        version: &'b str,
    ) -> Result<Self, AgentError> {
        Agent::with_config(input, output, version, Config::QEMU_INPUT)
    }

    /// Like [`Agent::new`], with other framer settings (a smaller nesting
    /// limit, or strict RFC 8259 strings).
    ///
    /// # Errors
    ///
    /// As [`Agent::new`].
    pub fn with_config(
        input: &'b mut [u8],
        output: &'b mut [u8],
        version: &'b str,
        config: Config,
    ) -> Result<Self, AgentError> {
        if output.len() < dispatch::MIN_OUTPUT {
            return Err(AgentError::OutputTooSmall {
                len: output.len(),
                min: dispatch::MIN_OUTPUT,
            });
        }
        if input.is_empty() {
            return Err(AgentError::InputEmpty);
        }
        Ok(Agent {
            framer: Framer::new(input, config),
            out: output,
            version,
        })
    }

    /// The largest request the agent can store, in bytes.
    pub fn max_request(&self) -> usize {
        self.framer.capacity()
    }

    /// Half a request is buffered (a 0xFF from the host would flush it).
    pub fn in_request(&self) -> bool {
        self.framer.in_value()
    }

    /// Drop any half-read request, as a 0xFF would, but without the error
    /// reply qemu-ga sends for a 0xFF. qemu-ga itself never does this (its
    /// parser state survives reconnections); an embedder may, e.g. when a
    /// serial line is re-opened.
    pub fn reset(&mut self) {
        self.framer.reset();
    }

    /// Feed bytes from the host. Handles at most one framer event (one
    /// request, one parse error or one 0xFF) per call, so that its reply can
    /// be sent before the next: write `step.reply`, then feed
    /// `input[step.consumed..]` again until it is used up.
    ///
    /// Never fails: every problem with the input becomes an error reply,
    /// and the agent carries on with the bytes after it.
    pub fn feed<H: Handler + ?Sized>(&mut self, input: &[u8], handler: &mut H) -> Step<'_> {
        let Agent {
            framer,
            out,
            version,
        } = self;
        let fed = framer.feed(input);
        let mut output = Output::new(out, TERMINATOR);
        let activity = match fed.event {
            Event::NeedMore => Activity::Idle,
            Event::Frame(frame) => answer(frame.json(), &mut output, handler, version),
            Event::Sentinel { .. } | Event::Error { .. } | Event::TooLarge { .. } => {
                let written = output.message(&[], |w| {
                    dispatch::write_framing_error(w, &fed.event).map(|_| ())
                });
                if written.is_err() {
                    fallback(&mut output);
                }
                Activity::FramingError
            }
        };
        let len = output.len();
        Step {
            consumed: fed.consumed,
            reply: out.get(..len).unwrap_or_default(),
            activity,
        }
    }
}

/// Answer one complete value.
fn answer<H: Handler + ?Sized>(
    v: Json<'_>,
    out: &mut Output<'_>,
    handler: &mut H,
    version: &str,
) -> Activity {
    let request = match dispatch::check_request(v, false) {
        Ok(request) => request,
        Err(refused) => {
            if out
                .message(&[], |w| dispatch::write_refusal(w, &refused))
                .is_err()
            {
                fallback(out);
            }
            return Activity::Refused;
        }
    };
    let (answered, activity) = match builtin_index(&request) {
        Some(index) => (
            run_builtin(index, &request, out, handler, version),
            Activity::Command,
        ),
        None => {
            let known = codec::command_index(request.name, handler.commands());
            let enabled = known.is_some_and(|i| handler.enabled(i));
            let answered = dispatch::dispatch(handler, &request, out);
            let activity = if enabled {
                Activity::Command
            } else {
                Activity::Refused
            };
            (answered, activity)
        }
    };
    if answered.outcome() == Outcome::Overflow {
        fallback(out);
    }
    activity
}

/// The last resort when even an error reply echoing the request's `id` did
/// not fit (an `id` larger than the output buffer): the same error without
/// the `id`, which always fits in [`dispatch::MIN_OUTPUT`].
fn fallback(out: &mut Output<'_>) {
    let _ = out.message(&[], |w| {
        dispatch::write_error(
            w,
            ErrorClass::GenericError,
            format_args!("reply does not fit the output buffer"),
            None,
        )
    });
}

fn builtin_index(request: &Request<'_>) -> Option<usize> {
    codec::command_index(request.name, BUILTINS)
}

fn run_builtin<H: Handler + ?Sized>(
    index: usize,
    request: &Request<'_>,
    out: &mut Output<'_>,
    handler: &H,
    version: &str,
) -> dispatch::Answered {
    let id = request.id;
    let args = request.arguments;
    match index {
        // guest-sync-delimited: the 0xFF goes before a successful reply
        // only (qemu-ga sets its flag inside the command, which an
        // argument error never reaches).
        0 => match codec::decode_args::<<GuestSyncDelimited as codec::Command>::Args>(
            args,
            Mode::Strict,
        ) {
            Ok(a) => Reply::new(out, id, true, &[SENTINEL]).ok(&a.id),
            Err(e) => Reply::new(out, id, true, &[]).invalid_arguments(&e),
        },
        1 => match codec::decode_args::<<GuestSync as codec::Command>::Args>(args, Mode::Strict) {
            Ok(a) => Reply::new(out, id, true, &[]).ok(&a.id),
            Err(e) => Reply::new(out, id, true, &[]).invalid_arguments(&e),
        },
        2 => match codec::decode_args::<codec::NoArgs>(args, Mode::Strict) {
            Ok(_) => Reply::new(out, id, true, &[]).ok_empty(),
            Err(e) => Reply::new(out, id, true, &[]).invalid_arguments(&e),
        },
        _ => match codec::decode_args::<codec::NoArgs>(args, Mode::Strict) {
            Ok(_) => Reply::new(out, id, true, &[]).ok(&EncodeWith(|w: &mut JsonWriter<'_>| {
                write_info(w, handler, version)
            })),
            Err(e) => Reply::new(out, id, true, &[]).invalid_arguments(&e),
        },
    }
}

/// `guest-info`'s return value, streamed: the built-ins, then every command
/// of the handler whose name is not a built-in's.
fn write_info<H: Handler + ?Sized>(
    w: &mut JsonWriter<'_>,
    handler: &H,
    version: &str,
) -> Result<(), WriteError> {
    w.begin_object()?;
    w.key("version")?;
    w.string(version)?;
    w.key("supported_commands")?;
    w.begin_array()?;
    for info in BUILTINS {
        write_command_info(w, info, true)?;
    }
    for (i, info) in handler.commands().iter().enumerate() {
        if BUILTINS.iter().any(|b| b.name == info.name) {
            continue;
        }
        write_command_info(w, info, handler.enabled(i))?;
    }
    w.end_array()?;
    w.end_object()
}

fn write_command_info(
    w: &mut JsonWriter<'_>,
    info: &CommandInfo,
    enabled: bool,
) -> Result<(), WriteError> {
    w.begin_object()?;
    w.key("enabled")?;
    w.bool(enabled)?;
    w.key("name")?;
    w.string(info.name)?;
    w.key("success-response")?;
    w.bool(info.success_response)?;
    w.end_object()
}
