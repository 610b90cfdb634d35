//! The comments of a source, found by a scan that knows strings (a `#` in a string is text).

/// A `# ...` comment: its byte range, up to (not including) the end of its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comment {
    pub start: usize,
    pub end: usize,
}

/// Every comment of a source that parses, in order.
pub fn scan(src: &str) -> Vec<Comment> {
    let bytes = src.as_bytes();
    let mut comments = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Strings end at an unescaped quote; they cannot span lines.
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n') {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'#' => {
                let start = i;
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                comments.push(Comment { start, end: i });
            }
            _ => i += 1,
        }
    }
    comments
}
