//! Reading one QAPI file: a sequence of top-level expressions written in
//! JSON extended with single-quoted strings and `#` comments.
//!
//! Every value remembers its line, and every top-level expression gets the
//! block of comment lines written immediately above it (its doc comment).
//! Malformed input is an [`Error`] naming the file and line; nothing panics.

use crate::Error;

/// A parsed value with the line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// 1-based line number.
    pub line: usize,
    /// The value.
    pub value: Value,
}

/// A QAPI value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string (either quote style).
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `[...]`.
    List(Vec<Node>),
    /// `{...}`, members in source order.
    Dict(Vec<(String, Node)>),
}

impl Node {
    /// A short name for the value's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Str(_) => "string",
            Value::Bool(_) => "boolean",
            Value::List(_) => "list",
            Value::Dict(_) => "object",
        }
    }
}

/// A top-level expression and the comment lines right above it.
#[derive(Clone, Debug)]
pub struct Expr {
    /// The expression (always a dict).
    pub node: Node,
    /// Comment lines immediately preceding the expression (each without its
    /// leading `#` and one following space), with their line numbers.
    pub comments: Vec<(usize, String)>,
}

/// Parse a whole file's text.
///
/// # Errors
///
/// The first syntax error, with `file` and line.
pub fn parse_file(file: &str, text: &str) -> Result<Vec<Expr>, Error> {
    let mut p = Parser {
        file,
        bytes: text.as_bytes(),
        at: 0,
        line: 1,
        comments: Vec::new(),
        last_code_line: 0,
    };
    let mut out = Vec::new();
    loop {
        p.skip_space();
        if p.at >= p.bytes.len() {
            break;
        }
        let start_line = p.line;
        // Only comment lines directly above (no code line since) count.
        let comments: Vec<(usize, String)> = take_doc_run(&p.comments, start_line);
        p.comments.clear();
        let node = p.value(0)?;
        if !matches!(node.value, Value::Dict(_)) {
            return Err(p.error_at(start_line, "a top-level expression must be an object"));
        }
        p.last_code_line = p.line;
        out.push(Expr { node, comments });
    }
    Ok(out)
}

/// The comment lines that form an unbroken run ending on the line before
/// `line`.
fn take_doc_run(comments: &[(usize, String)], line: usize) -> Vec<(usize, String)> {
    let mut run: Vec<(usize, String)> = Vec::new();
    let mut want = line.saturating_sub(1);
    for (l, text) in comments.iter().rev() {
        if *l != want {
            break;
        }
        run.push((*l, text.clone()));
        want = want.saturating_sub(1);
    }
    run.reverse();
    run
}

/// Deepest nesting accepted; QAPI schemas nest three or four levels.
const MAX_DEPTH: usize = 32;

struct Parser<'t> {
    file: &'t str,
    bytes: &'t [u8],
    at: usize,
    line: usize,
    /// Comment lines seen since the last expression: (line, text).
    comments: Vec<(usize, String)>,
    last_code_line: usize,
}

impl Parser<'_> {
    fn error_at(&self, line: usize, message: impl Into<String>) -> Error {
        Error::new(self.file, line, message)
    }

    fn error(&self, message: impl Into<String>) -> Error {
        self.error_at(self.line, message)
    }

    /// "expected X", or "unexpected end of file" when there is no more.
    fn expected(&self, what: &str) -> Error {
        if self.at >= self.bytes.len() {
            self.error(format!("unexpected end of file, expected {what}"))
        } else {
            self.error(format!("expected {what}"))
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Skip whitespace and comments, recording whole-line comments.
    fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.at += 1;
                }
                b' ' | b'\t' | b'\r' => self.at += 1,
                b'#' => {
                    let start = self.at;
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.at += 1;
                    }
                    let raw = String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned();
                    // A comment after code on the same line is not a doc line.
                    if self.line != self.last_code_line {
                        let text = raw.strip_prefix('#').unwrap_or(&raw);
                        let text = text.strip_prefix(' ').unwrap_or(text);
                        self.comments.push((self.line, text.trim_end().to_string()));
                    }
                }
                _ => break,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, Error> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.skip_space();
        let line = self.line;
        self.last_code_line = line;
        let value = match self.peek() {
            None => return Err(self.error("unexpected end of file")),
            Some(b'{') => {
                self.at += 1;
                let mut members: Vec<(String, Node)> = Vec::new();
                self.skip_space();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                } else {
                    loop {
                        self.skip_space();
                        let key_line = self.line;
                        let key = match self.peek() {
                            Some(b'\'' | b'"') => self.string()?,
                            _ => return Err(self.expected("a string as member name")),
                        };
                        if members.iter().any(|(k, _)| *k == key) {
                            return Err(self.error_at(key_line, format!("duplicate key '{key}'")));
                        }
                        self.skip_space();
                        if self.peek() != Some(b':') {
                            return Err(self.expected("':'"));
                        }
                        self.at += 1;
                        let v = self.value(depth + 1)?;
                        members.push((key, v));
                        self.skip_space();
                        match self.peek() {
                            Some(b',') => self.at += 1,
                            Some(b'}') => {
                                self.at += 1;
                                break;
                            }
                            _ => return Err(self.expected("',' or '}'")),
                        }
                    }
                }
                Value::Dict(members)
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                self.skip_space();
                if self.peek() == Some(b']') {
                    self.at += 1;
                } else {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.skip_space();
                        match self.peek() {
                            Some(b',') => self.at += 1,
                            Some(b']') => {
                                self.at += 1;
                                break;
                            }
                            _ => return Err(self.expected("',' or ']'")),
                        }
                    }
                }
                Value::List(items)
            }
            Some(b'\'' | b'"') => Value::Str(self.string()?),
            Some(b't') if self.bytes[self.at..].starts_with(b"true") => {
                self.at += 4;
                Value::Bool(true)
            }
            Some(b'f') if self.bytes[self.at..].starts_with(b"false") => {
                self.at += 5;
                Value::Bool(false)
            }
            Some(c) => {
                return Err(self.error(format!(
                    "unexpected character '{}'",
                    char::from(c).escape_default()
                )))
            }
        };
        self.last_code_line = self.line;
        Ok(Node { line, value })
    }

    fn string(&mut self) -> Result<String, Error> {
        let quote = self.peek().unwrap_or(b'\'');
        let start_line = self.line;
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\n') => return Err(self.error_at(start_line, "unterminated string")),
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(c @ (b'\\' | b'\'' | b'"' | b'/')) => out.push(c),
                        Some(b'n') => out.push(b'\n'),
                        Some(b't') => out.push(b'\t'),
                        _ => return Err(self.error("unsupported escape in string")),
                    }
                    self.at += 1;
                }
                Some(c) if c == quote => {
                    self.at += 1;
                    break;
                }
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| self.error_at(start_line, "string is not valid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_single_quotes_comments_and_lines() {
        let src = "# hello\n##\n# @x:\n##\n{ 'struct': 'X', # trailing\n  'data': { '*a': ['int'], \"b\": 'str' } }\n";
        let exprs = parse_file("t.json", src).unwrap();
        assert_eq!(exprs.len(), 1);
        let e = &exprs[0];
        assert_eq!(e.node.line, 5);
        assert_eq!(
            e.comments.iter().map(|c| c.1.as_str()).collect::<Vec<_>>(),
            ["hello", "#", "@x:", "#"]
        );
        let Value::Dict(m) = &e.node.value else {
            panic!()
        };
        assert_eq!(m[1].0, "data");
        assert_eq!(m[1].1.line, 6);
    }

    #[test]
    fn blank_line_breaks_the_doc_run() {
        let exprs = parse_file("t.json", "# a\n\n{ 'enum': 'E', 'data': [] }").unwrap();
        assert!(exprs[0].comments.is_empty());
    }

    #[test]
    fn malformed_inputs_name_file_and_line() {
        let cases = [
            (
                "{ 'struct': 'X',\n 'data': { 'a': 'int' }\n",
                3,
                "unexpected end of file",
            ),
            ("{ 'struct': 'X'\n 'data': {} }", 2, "expected ',' or '}'"),
            ("\n\n{ 'struct': 'X, 'data': {} }", 3, "expected ',' or '}'"),
            ("{ 'a': 'x\n' }", 1, "unterminated string"),
            ("{ 'a': 1 }", 1, "unexpected character '1'"),
            (
                "['not', 'a', 'dict']",
                1,
                "top-level expression must be an object",
            ),
            ("{ 'a': 'x', 'a': 'y' }", 1, "duplicate key 'a'"),
            ("{ 'a': tru }", 1, "unexpected character 't'"),
            ("{ 'a': 'x' } }", 1, "unexpected character '}'"),
        ];
        for (src, line, msg) in cases {
            let e = parse_file("bad.json", src).unwrap_err();
            assert_eq!(
                (e.file.as_str(), e.line),
                ("bad.json", line),
                "{src:?}: {e}"
            );
            assert!(e.message.contains(msg), "{src:?}: {e}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let src = format!("{{ 'a': {}{} }}", "[".repeat(10_000), "]".repeat(10_000));
        let e = parse_file("deep.json", &src).unwrap_err();
        assert!(e.message.contains("too deep"));
    }
}
