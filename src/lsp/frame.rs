//! The framing of the language server protocol (`Content-Length: N`, a blank line, then N
//! bytes of JSON), read with bounds: a header line is read up to [`MAX_HEADER_LINE`] bytes
//! and a message up to [`MAX_CONTENT`]. What a client sends can cost stackc no more memory
//! than that, whatever the length it claims: a bigger message is skipped (read and dropped
//! in small pieces), so the frames after it are still found.
//!
//! A frame that cannot be read does not end the session: it is reported as
//! [`Frame::Bad`], for the server to answer with an error. After a malformed header, the
//! reader finds the next frame by its `Content-Length` header.

use std::io::{self, BufRead, Read};

/// The largest message read, in bytes (a document of 64 MiB is far beyond any real file).
pub const MAX_CONTENT: u64 = 64 * 1024 * 1024;

/// The longest header line read; the rest of a longer one is skipped.
pub const MAX_HEADER_LINE: usize = 1024;

/// What the reader found.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A message's content (JSON text, not parsed yet).
    Content(Vec<u8>),
    /// A frame that could not be read, and why.
    Bad(String),
}

/// Reads the next frame; None at the end of the input.
pub fn read_frame(r: &mut impl BufRead) -> io::Result<Option<Frame>> {
    let mut length: Option<Result<u64, String>> = None;
    let mut headers = 0;
    loop {
        let Some(line) = read_line(r)? else {
            return Ok(None);
        };
        let Line::Text(line) = line else {
            headers += 1;
            continue;
        };
        if line.is_empty() {
            match (&length, headers) {
                // Blank lines between frames.
                (None, 0) => continue,
                (None, _) => return Ok(Some(Frame::Bad("a frame without Content-Length".into()))),
                _ => break,
            }
        }
        headers += 1;
        // Found anywhere on the line: after a frame whose length was wrong, the next header
        // may follow the end of a message on the same line.
        if let Some(at) = find_ignore_case(&line, b"content-length:") {
            let value = String::from_utf8_lossy(&line[at + b"content-length:".len()..]);
            let value = value.trim();
            length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| format!("invalid Content-Length `{}`", clip(value))),
            );
        }
    }
    let n = match length {
        Some(Ok(n)) => n,
        Some(Err(why)) => return Ok(Some(Frame::Bad(why))),
        None => return Ok(Some(Frame::Bad("a frame without Content-Length".into()))),
    };
    if n > MAX_CONTENT {
        let skipped = io::copy(&mut Read::take(&mut *r, n), &mut io::sink())?;
        if skipped < n {
            return Ok(None);
        }
        return Ok(Some(Frame::Bad(format!(
            "a message of {n} bytes, more than the {} MiB stackc reads",
            MAX_CONTENT >> 20
        ))));
    }
    let mut content = Vec::new();
    Read::take(&mut *r, n).read_to_end(&mut content)?;
    if (content.len() as u64) < n {
        // The input ended inside the message.
        return Ok(None);
    }
    Ok(Some(Frame::Content(content)))
}

enum Line {
    /// A line without its `\r\n` (or `\n`).
    Text(Vec<u8>),
    /// A line longer than [`MAX_HEADER_LINE`], skipped to its end.
    TooLong,
}

/// One header line, read up to [`MAX_HEADER_LINE`] bytes; None at the end of the input.
fn read_line(r: &mut impl BufRead) -> io::Result<Option<Line>> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok((!line.is_empty() || too_long).then_some(if too_long {
                Line::TooLong
            } else {
                Line::Text(line)
            }));
        }
        let (chunk, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        let used = chunk.len();
        if !too_long {
            if line.len() + used > MAX_HEADER_LINE + 2 {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        r.consume(used);
        if done {
            if too_long {
                return Ok(Some(Line::TooLong));
            }
            while line.last().is_some_and(|&c| c == b'\n' || c == b'\r') {
                line.pop();
            }
            return Ok(Some(Line::Text(line)));
        }
    }
}

fn find_ignore_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// A value as quoted in a message: at most 40 characters.
fn clip(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut r = io::BufReader::with_capacity(7, input);
        let mut out = Vec::new();
        while let Some(f) = read_frame(&mut r).unwrap() {
            out.push(f);
        }
        out
    }

    fn content(s: &str) -> Frame {
        Frame::Content(s.as_bytes().to_vec())
    }

    #[test]
    fn frames_are_read_by_their_length() {
        let input = b"Content-Length: 2\r\n\r\n{}Content-Type: x\r\ncontent-length:3\r\n\r\n[1]";
        assert_eq!(frames(input), [content("{}"), content("[1]")]);
    }

    #[test]
    fn a_length_over_the_cap_is_skipped_and_the_next_frame_read() {
        let big = MAX_CONTENT + 1;
        let mut input = format!("Content-Length: {big}\r\n\r\n").into_bytes();
        input.resize(input.len() + big as usize, b' ');
        input.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
        let got = frames(&input);
        assert!(matches!(&got[0], Frame::Bad(m) if m.contains("more than the 64 MiB")));
        assert_eq!(got[1], content("{}"));
        // A length the input never delivers ends the input, without reading it into memory.
        assert_eq!(
            frames(b"Content-Length: 18446744073709551615\r\n\r\n{}"),
            []
        );
        assert_eq!(frames(b"Content-Length: 1000000000000\r\n\r\n"), []);
    }

    #[test]
    fn bad_headers_are_reported_and_the_next_frame_found() {
        let input = b"Content-Length: -1\r\n\r\n{\"x\":1}Content-Length: 2\r\n\r\n{}";
        let got = frames(input);
        assert!(matches!(&got[0], Frame::Bad(m) if m.contains("invalid Content-Length `-1`")));
        assert_eq!(got.last(), Some(&content("{}")));
        let long = [
            b"X-Junk: ".as_slice(),
            &[b'a'; 5000],
            b"\r\nContent-Length: 2\r\n\r\n{}",
        ];
        assert_eq!(frames(&long.concat()), [content("{}")]);
        assert!(matches!(
            &frames(b"X: y\r\n\r\n")[0],
            Frame::Bad(m) if m.contains("without Content-Length")
        ));
    }

    #[test]
    fn the_end_of_the_input_inside_a_frame_ends_the_frames() {
        assert_eq!(frames(b"Content-Length: 10\r\n\r\n{}"), []);
        assert_eq!(frames(b"Content-Le"), []);
    }
}
