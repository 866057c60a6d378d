//! Doc comments: the description, per-member text, tagged sections and the
//! `Example:` transcripts of one definition.
//!
//! QAPI writes a definition's documentation as a block between `##` lines:
//! a `@name:` line, free text, `@member: text` paragraphs, and sections
//! such as `Returns:`, `Since:`, `Notes:` and `Example:`. The seed files lost
//! some of that shape when they were extracted from web pages (QGA's blocks
//! have no `##` lines and some `@name` lines no colon), so this reader is
//! forgiving: it takes the last `##`-delimited block of the comment lines
//! right above the definition, or all of them when there is none.

/// The documentation of one definition.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Doc {
    /// The name on the block's `@name:` line, if it has one.
    pub symbol: Option<String>,
    /// Free text before the first member or section, one entry per line.
    pub body: Vec<String>,
    /// `@member: text` paragraphs, in order.
    pub members: Vec<(String, Vec<String>)>,
    /// Tagged sections (`Returns`, `Since`, `Notes`, `Example`, ...), with
    /// the line number where each starts.
    pub sections: Vec<Section>,
}

/// A tagged section of a doc comment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Section {
    /// The tag, e.g. `Returns` or `Example`.
    pub tag: String,
    /// Line number of the tag line.
    pub line: usize,
    /// The section's lines (the text after the tag on its own line first),
    /// each with its line number.
    pub lines: Vec<(usize, String)>,
}

const TAGS: &[&str] = &[
    "Returns",
    "Return",
    "Since",
    "Example",
    "Examples",
    "Notes",
    "Note",
    "TODO",
    "Arguments",
    "Errors",
];

/// If `line` starts a tagged section, its tag and the rest of the line.
fn section_start(line: &str) -> Option<(&'static str, &str)> {
    for tag in TAGS {
        if let Some(rest) = line.strip_prefix(tag) {
            if let Some(rest) = rest.strip_prefix(':') {
                return Some((tag, rest.trim()));
            }
            // QGA's "Since 1.1.0" has no colon.
            if *tag == "Since" && rest.starts_with(' ') {
                return Some((tag, rest.trim()));
            }
        }
    }
    None
}

/// `@name: text` → (name, text).
fn member_start(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('@')?;
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))?;
    let (name, after) = rest.split_at(end);
    let text = after.strip_prefix(':')?;
    (!name.is_empty()).then_some((name, text.trim()))
}

impl Doc {
    /// Read the doc comment from the comment lines above a definition.
    pub fn parse(comments: &[(usize, String)]) -> Option<Doc> {
        // Split on `##` lines; keep the last non-empty block.
        let mut blocks: Vec<Vec<(usize, String)>> = vec![Vec::new()];
        for (line, text) in comments {
            if text.trim() == "#" || text.trim() == "##" {
                blocks.push(Vec::new());
            } else if let Some(last) = blocks.last_mut() {
                last.push((*line, text.clone()));
            }
        }
        let block = blocks
            .into_iter()
            .rev()
            .find(|b| b.iter().any(|(_, t)| !t.trim().is_empty()))?;
        let mut doc = Doc::default();
        let mut lines = block
            .iter()
            .skip_while(|(_, t)| t.trim().is_empty())
            .peekable();
        if let Some((_, first)) = lines.peek() {
            let first = first.trim();
            if let Some(name) = first.strip_prefix('@') {
                if !name.contains(' ') || name.ends_with(':') {
                    doc.symbol = Some(name.trim_end_matches(':').to_string());
                    lines.next();
                }
            }
        }
        enum At {
            Body,
            Member,
            Section,
        }
        let mut at = At::Body;
        for (line, raw) in lines {
            let text = raw.trim();
            if let Some((name, rest)) = member_start(text) {
                let rest = rest
                    .strip_prefix("#optional")
                    .map(str::trim)
                    .unwrap_or(rest);
                let first = if rest.is_empty() {
                    Vec::new()
                } else {
                    vec![rest.to_string()]
                };
                doc.members.push((name.to_string(), first));
                at = At::Member;
            } else if let Some((tag, rest)) = section_start(text) {
                let first = if rest.is_empty() {
                    Vec::new()
                } else {
                    vec![(*line, rest.to_string())]
                };
                doc.sections.push(Section {
                    tag: tag.to_string(),
                    line: *line,
                    lines: first,
                });
                at = At::Section;
            } else if text.is_empty() {
                match at {
                    At::Member => at = At::Body,
                    At::Section => {
                        if let Some(s) = doc.sections.last_mut() {
                            s.lines.push((*line, String::new()));
                        }
                    }
                    At::Body => doc.body.push(String::new()),
                }
            } else {
                match at {
                    At::Member => {
                        if let Some(m) = doc.members.last_mut() {
                            m.1.push(text.to_string());
                        }
                    }
                    At::Section => {
                        if let Some(s) = doc.sections.last_mut() {
                            s.lines.push((*line, text.to_string()));
                        }
                    }
                    // Text after a member paragraph and a blank line, before
                    // any section, still describes the definition.
                    At::Body => doc.body.push(text.to_string()),
                }
            }
        }
        while doc.body.last().is_some_and(String::is_empty) {
            doc.body.pop();
        }
        while doc.body.first().is_some_and(String::is_empty) {
            doc.body.remove(0);
        }
        Some(doc)
    }

    /// The text of member `name`, if documented.
    pub fn member(&self, name: &str) -> Option<&[String]> {
        self.members
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_slice())
    }

    /// The first section tagged `tag`.
    pub fn section(&self, tag: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.tag == tag)
    }

    /// The message transcripts of every `Example:` section.
    pub fn transcripts(&self) -> Vec<Transcript> {
        let mut out = Vec::new();
        for section in self
            .sections
            .iter()
            .filter(|s| s.tag.starts_with("Example"))
        {
            let mut current: Option<Transcript> = None;
            for (line, text) in &section.lines {
                let t = text.trim();
                let start = t
                    .strip_prefix("->")
                    .map(|r| (Direction::ToServer, r))
                    .or_else(|| t.strip_prefix("<-").map(|r| (Direction::FromServer, r)));
                match start {
                    Some((direction, rest)) => {
                        out.extend(current.take());
                        current = Some(Transcript {
                            direction,
                            line: *line,
                            text: rest.trim().to_string(),
                        });
                    }
                    None if t.is_empty() => out.extend(current.take()),
                    None => {
                        if let Some(c) = current.as_mut() {
                            c.text.push('\n');
                            c.text.push_str(t);
                        }
                    }
                }
            }
            out.extend(current.take());
        }
        out
    }
}

/// Which way an example message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `->`: client to server (a command).
    ToServer,
    /// `<-`: server to client (a reply or an event).
    FromServer,
}

/// One message of an `Example:` transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    /// Which way it goes.
    pub direction: Direction,
    /// Line of the `->` / `<-`.
    pub line: usize,
    /// The JSON text as written (possibly over several lines).
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(usize, String)> {
        text.lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.to_string()))
            .collect()
    }

    #[test]
    fn qmp_style_block() {
        let doc = Doc::parse(&lines(
            "##\n= Misc\n##\n##\n@add_client:\n\nAllow clients.\n\n@protocol: protocol name. Valid\nnames are \"vnc\"\n\n@tls: whether\n\nReturns: nothing.\n\nExample:\n\n-> { \"execute\": \"x\",\n\"arguments\": {} }\n<- { \"return\": {} }\n\nSince: 0.14.0\n##",
        ))
        .unwrap();
        assert_eq!(doc.symbol.as_deref(), Some("add_client"));
        assert_eq!(doc.body, ["Allow clients."]);
        assert_eq!(
            doc.member("protocol").unwrap(),
            ["protocol name. Valid", "names are \"vnc\""]
        );
        assert_eq!(doc.member("tls").unwrap(), ["whether"]);
        let t = doc.transcripts();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].direction, Direction::ToServer);
        assert_eq!(t[0].text, "{ \"execute\": \"x\",\n\"arguments\": {} }");
        assert_eq!(t[1].line, 20);
        assert_eq!(doc.section("Since").unwrap().lines[0].1, "0.14.0");
    }

    #[test]
    fn qga_style_block() {
        let doc = Doc::parse(&lines(
            "@GuestFileRead\nResult of read\n@count: #optional number of bytes\n        before base64\n@eof: whether EOF\nSince 0.15.0",
        ))
        .unwrap();
        assert_eq!(doc.symbol.as_deref(), Some("GuestFileRead"));
        assert_eq!(doc.body, ["Result of read"]);
        assert_eq!(
            doc.member("count").unwrap(),
            ["number of bytes", "before base64"]
        );
        assert_eq!(doc.section("Since").unwrap().lines[0].1, "0.15.0");
    }
}
