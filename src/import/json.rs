//! JSON read into the tree of [`super::yaml`], with lines. JSON is YAML, but a YAML scanner
//! keeps every token of a flow collection until it ends, which for a whole JSON document costs
//! over a hundred times its size; this reader builds the tree as it goes. A text that is not
//! JSON is left to the YAML reader (a flow mapping like `{a: 1}` is YAML, not JSON).

use compact_str::CompactString;

use super::ImportError;
use super::yaml::{Entry, MAX_DEPTH, Node, Value};

/// Parses `src` as one JSON value (with surrounding whitespace); Err with the line and what
/// was expected otherwise.
pub fn parse(src: &str) -> Result<Node, ImportError> {
    let mut p = Reader {
        bytes: src.as_bytes(),
        src,
        pos: 0,
        line: 1,
    };
    p.skip_ws();
    let node = p.value(0)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.error("the end of the file"));
    }
    Ok(node)
}

struct Reader<'a> {
    bytes: &'a [u8],
    src: &'a str,
    pos: usize,
    line: usize,
}

impl Reader<'_> {
    fn error(&self, expected: &str) -> ImportError {
        ImportError {
            line: Some(self.line),
            message: format!("not valid JSON: expected {expected}"),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.bytes.get(self.pos) == Some(&b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, ImportError> {
        let line = self.line;
        let value = match self.bytes.get(self.pos) {
            Some(b'{') | Some(b'[') if depth >= MAX_DEPTH => {
                return Err(ImportError {
                    line: Some(line),
                    message: format!("nested more than {MAX_DEPTH} levels deep"),
                });
            }
            Some(b'{') => {
                self.pos += 1;
                Value::Map(self.object(depth)?)
            }
            Some(b'[') => {
                self.pos += 1;
                Value::Seq(self.array(depth)?)
            }
            Some(b'"') => Value::Str(self.string()?),
            Some(b't') if self.src[self.pos..].starts_with("true") => {
                self.pos += 4;
                Value::Bool(true)
            }
            Some(b'f') if self.src[self.pos..].starts_with("false") => {
                self.pos += 5;
                Value::Bool(false)
            }
            Some(b'n') if self.src[self.pos..].starts_with("null") => {
                self.pos += 4;
                Value::Null
            }
            Some(b'-' | b'0'..=b'9') => self.number()?,
            _ => return Err(self.error("a value")),
        };
        Ok(Node { line, value })
    }

    fn object(&mut self, depth: usize) -> Result<Vec<Entry>, ImportError> {
        let mut entries: Vec<Entry> = Vec::new();
        // Keys already in the object, once it is big enough for a linear search to be slow.
        let mut seen: Option<std::collections::HashSet<CompactString>> = None;
        self.skip_ws();
        if self.eat(b'}') {
            return Ok(entries);
        }
        loop {
            self.skip_ws();
            let line = self.line;
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.error("a key in quotes"));
            }
            let key = self.string()?;
            let duplicate = match seen.as_mut() {
                Some(set) => !set.insert(key.clone()),
                None => {
                    let dup = entries.iter().any(|e| e.key == key);
                    if entries.len() >= 16 {
                        let mut set: std::collections::HashSet<CompactString> =
                            entries.iter().map(|e| e.key.clone()).collect();
                        set.insert(key.clone());
                        seen = Some(set);
                    }
                    dup
                }
            };
            if duplicate {
                return Err(ImportError {
                    line: Some(line),
                    message: format!(
                        "not valid JSON: the key `{key}` is defined twice in one object"
                    ),
                });
            }
            self.skip_ws();
            if !self.eat(b':') {
                return Err(self.error("`:`"));
            }
            self.skip_ws();
            let value = self.value(depth + 1)?;
            entries.push(Entry { key, line, value });
            self.skip_ws();
            if self.eat(b',') {
                continue;
            }
            if self.eat(b'}') {
                entries.shrink_to_fit();
                return Ok(entries);
            }
            return Err(self.error("`,` or `}`"));
        }
    }

    fn array(&mut self, depth: usize) -> Result<Vec<Node>, ImportError> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(b']') {
            return Ok(items);
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            if self.eat(b',') {
                continue;
            }
            if self.eat(b']') {
                items.shrink_to_fit();
                return Ok(items);
            }
            return Err(self.error("`,` or `]`"));
        }
    }

    fn string(&mut self) -> Result<CompactString, ImportError> {
        // At the opening quote.
        self.pos += 1;
        let start = self.pos;
        let mut out: Option<String> = None;
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(self.error("the closing `\"` of a string"));
            };
            match b {
                b'"' => {
                    let s = match out {
                        Some(s) => CompactString::from(s),
                        None => CompactString::from(&self.src[start..self.pos]),
                    };
                    self.pos += 1;
                    return Ok(s);
                }
                b'\\' => {
                    let buf = out.get_or_insert_with(|| self.src[start..self.pos].to_string());
                    let esc = self.bytes.get(self.pos + 1).copied();
                    self.pos += 2;
                    match esc {
                        Some(b'"') => buf.push('"'),
                        Some(b'\\') => buf.push('\\'),
                        Some(b'/') => buf.push('/'),
                        Some(b'b') => buf.push('\u{8}'),
                        Some(b'f') => buf.push('\u{c}'),
                        Some(b'n') => buf.push('\n'),
                        Some(b'r') => buf.push('\r'),
                        Some(b't') => buf.push('\t'),
                        Some(b'u') => {
                            let c = self.unicode_escape()?;
                            buf.push(c);
                        }
                        _ => return Err(self.error("an escape (`\\n`, `\\\"`, `\\u0041`, ...)")),
                    }
                }
                b'\n' => return Err(self.error("the closing `\"` of a string on its line")),
                _ => {
                    // Whole characters: the text is UTF-8, and a multi-byte one never holds a
                    // quote or a backslash.
                    let len = self.src[self.pos..]
                        .chars()
                        .next()
                        .map_or(1, char::len_utf8);
                    if let Some(buf) = out.as_mut() {
                        buf.push_str(&self.src[self.pos..self.pos + len]);
                    }
                    self.pos += len;
                }
            }
        }
    }

    /// After `\u`: four hex digits, and a second escape for a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, ImportError> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if !(self.eat(b'\\') && self.eat(b'u')) {
                return Err(self.error("the second half of a surrogate pair"));
            }
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("the second half of a surrogate pair"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error("a Unicode character"))
    }

    fn hex4(&mut self) -> Result<u32, ImportError> {
        let digits = self
            .src
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("four hexadecimal digits after `\\u`"))?;
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("four hexadecimal digits"))
    }

    fn number(&mut self) -> Result<Value, ImportError> {
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            if b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = &self.src[start..self.pos];
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        text.parse::<f64>()
            .map(Value::Float)
            .map_err(|_| self.error("a number"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_lines() {
        let n = parse("{\n  \"a\": [1, -2.5, 1e999, true, null],\n  \"b\": \"x\\u00e9\\ud83e\\udd80\\n\"\n}\n")
            .expect("valid");
        let m = n.value.as_map().expect("a map");
        assert_eq!((m[0].key.as_str(), m[0].line), ("a", 2));
        assert_eq!(m[1].line, 3);
        let Value::Seq(items) = &m[0].value.value else {
            panic!("a list")
        };
        assert_eq!(items[0].value, Value::Int(1));
        assert_eq!(items[1].value, Value::Float(-2.5));
        assert_eq!(items[2].value, Value::Float(f64::INFINITY));
        assert_eq!(items[3].value, Value::Bool(true));
        assert_eq!(items[4].value, Value::Null);
        assert_eq!(m[1].value.value, Value::Str("xé🦀\n".into()));
    }

    #[test]
    fn refusals_have_lines() {
        for (src, line) in [
            ("{\"a\": 1,\n}", 2),
            ("{\"a\": 1, \"a\": 2}", 1),
            ("[1, 2", 1),
            ("{a: 1}", 1),
            ("\"\\x\"", 1),
            ("[1] 2", 1),
        ] {
            let e = parse(src).expect_err(src);
            assert_eq!(e.line, Some(line), "{src}: {e}");
        }
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(parse(&deep).expect_err("deep").message.contains("nested"));
    }
}
