//! What the session targets share: the input header and the chunked feed.
//!
//! Input layout:
//!
//! | byte | meaning |
//! | --- | --- |
//! | 0 | the session's buffer size: (b + 1) × 16 bytes |
//! | 1 | options, per target |
//! | 2 | `k` = b % 8 chunk-size bytes follow (0: one byte at a time) |
//! | 3.. | `k` chunk sizes (b + 1, cycled), then the peer's bytes |

/// Buffer size, options byte, chunk sizes and the stream.
pub struct Input<'a> {
    /// Size of the session's frame buffer.
    pub cap: usize,
    /// Target-specific options.
    pub options: u8,
    /// Chunk sizes to cycle through (empty: one byte at a time).
    pub chunks: Vec<usize>,
    /// The bytes the peer sends.
    pub stream: &'a [u8],
}

/// Split `data` as the module docs say; `None` if too short.
pub fn input(data: &[u8]) -> Option<Input<'_>> {
    let (&[size, options, k], rest) = data.split_first_chunk::<3>()?;
    let k = usize::from(k % 8).min(rest.len());
    let (sizes, stream) = rest.split_at(k);
    Some(Input {
        cap: (usize::from(size) + 1) * 16,
        options,
        chunks: sizes.iter().map(|&b| usize::from(b) + 1).collect(),
        stream,
    })
}

/// `stream` cut into pieces whose sizes cycle through `chunks` (one byte
/// at a time if empty).
pub fn pieces<'a>(stream: &'a [u8], chunks: &[usize]) -> Vec<&'a [u8]> {
    let sizes: &[usize] = if chunks.is_empty() { &[1] } else { chunks };
    let mut out = Vec::new();
    let mut at = 0;
    for &n in sizes.iter().cycle() {
        if at >= stream.len() {
            break;
        }
        let end = (at + n).min(stream.len());
        out.push(&stream[at..end]);
        at = end;
    }
    out
}

/// `bytes` is one line: valid strict JSON (an object), then `terminator`,
/// with only 7-bit ASCII in between.
pub fn one_message(bytes: &[u8], terminator: &[u8], what: &str) -> serde_json::Value {
    let body = bytes
        .strip_suffix(terminator)
        .unwrap_or_else(|| panic!("{what} does not end with its terminator: {bytes:?}"));
    assert!(body.is_ascii(), "{what} is not ASCII: {body:?}");
    // Exactly one object and then the terminator: nothing around it (which
    // serde_json would forgive as whitespace).
    assert!(
        body.first() == Some(&b'{') && body.last() == Some(&b'}'),
        "{what} is not exactly one object before its terminator: {body:?}"
    );
    // serde_json refuses numbers beyond f64 (`1E4467...` in an echoed id),
    // which are valid JSON and which the sessions write back as sent: read
    // them as 0 (only when serde_json failed, so everything else is judged
    // by serde_json as it stands).
    let v: serde_json::Value = serde_json::from_slice(body)
        .or_else(|e| match huge_numbers_as_zero(body) {
            Some(tamed) => serde_json::from_slice(&tamed),
            None => Err(e),
        })
        .unwrap_or_else(|e| {
            panic!(
                "{what} is not JSON ({e}): {}",
                String::from_utf8_lossy(body)
            )
        });
    assert!(v.is_object(), "{what} is not an object: {v}");
    v
}

/// `text` with every number token outside strings that follows the JSON
/// grammar but is beyond `f64` (parses to infinity) replaced by `0`; `None`
/// if there is none. Tokens that break the grammar are left for serde_json
/// to refuse.
fn huge_numbers_as_zero(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut changed = false;
    let mut in_string = false;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if in_string {
            out.push(b);
            if b == b'\\' {
                if let Some(&next) = text.get(i + 1) {
                    out.push(next);
                    i += 1;
                }
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
        }
        if b == b'-' || b.is_ascii_digit() {
            let len = text[i..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
                .count();
            let token = &text[i..i + len];
            let huge = json_number(token)
                && std::str::from_utf8(token)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .is_some_and(f64::is_infinite);
            if huge {
                out.push(b'0');
                changed = true;
            } else {
                out.extend_from_slice(token);
            }
            i += len;
            continue;
        }
        out.push(b);
        i += 1;
    }
    changed.then_some(out)
}

/// RFC 8259's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn json_number(t: &[u8]) -> bool {
    let digits = |t: &[u8]| t.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = usize::from(t.first() == Some(&b'-'));
    match t.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i += digits(&t[i..]),
        _ => return false,
    }
    if t.get(i) == Some(&b'.') {
        let n = digits(&t[i + 1..]);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    }
    if matches!(t.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(t.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(&t[i..]);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == t.len()
}

/// `whole` and `chunked` (two runs' output, lines of text) are the same;
/// on a difference, the panic shows the first differing line of each.
pub fn same_output(whole: &[u8], chunked: &[u8], what: &str) {
    if whole == chunked {
        return;
    }
    let a = whole.split_inclusive(|&b| b == b'\n');
    let b = chunked.split_inclusive(|&b| b == b'\n');
    for (n, (x, y)) in a.zip(b).enumerate() {
        assert_eq!(
            String::from_utf8_lossy(x),
            String::from_utf8_lossy(y),
            "{what} depends on chunking (line {n})"
        );
    }
    panic!(
        "{what} depends on chunking: {} vs {} bytes",
        whole.len(),
        chunked.len()
    );
}

#[cfg(test)]
mod tests {
    use super::{huge_numbers_as_zero, json_number};

    #[test]
    fn only_grammatical_numbers_beyond_f64_become_zero() {
        assert_eq!(
            huge_numbers_as_zero(br#"{"id":1E446744073709551615,"s":"1e999","n":[-1e400,2]}"#)
                .as_deref(),
            Some(&br#"{"id":0,"s":"1e999","n":[0,2]}"#[..])
        );
        assert_eq!(huge_numbers_as_zero(br#"{"a":1e308,"b":"\"1e999"}"#), None);
        assert_eq!(huge_numbers_as_zero(b"[01e999]"), None);
        for ok in ["0", "-0", "1.5e-3", "10E+2", "-12.0"] {
            assert!(json_number(ok.as_bytes()), "{ok}");
        }
        for bad in ["01", "-", "1.", ".5", "1e", "1e+", "--1", "1.2.3"] {
            assert!(!json_number(bad.as_bytes()), "{bad}");
        }
    }
}
