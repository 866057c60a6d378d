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
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "{what} is not JSON ({e}): {}",
            String::from_utf8_lossy(body)
        )
    });
    assert!(v.is_object(), "{what} is not an object: {v}");
    v
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
