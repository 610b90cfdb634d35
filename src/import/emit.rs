//! Writing the converted program as `.stack` text, laid out like the examples: two-space
//! indent, `=` aligned within a block, one blank line between blocks, comments kept on one
//! line each.

/// A whole program.
#[derive(Debug, Default)]
pub struct Program {
    /// Comment lines at the top of the file.
    pub header: Vec<String>,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Default)]
pub struct Block {
    /// `stack`, `environment`, `service`, `postgres`, `redis`, `firewall`.
    pub kind: &'static str,
    /// None for `firewall`.
    pub name: Option<String>,
    /// Comments at the top of the block, each wrapped to the page width.
    pub notes: Vec<String>,
    pub lines: Vec<Line>,
    /// A service's `env { }`; written when not empty.
    pub env: Vec<Line>,
}

/// One line of a block: `key = value`, a firewall rule, or only comments.
#[derive(Debug, Default)]
pub struct Line {
    /// Comments above it, each wrapped to the page width.
    pub notes: Vec<String>,
    /// `key` of `key = value`, or the whole rule when `value` is None, or empty for a line that
    /// is only its notes.
    pub key: String,
    pub value: Option<String>,
    /// A comment after it.
    pub comment: Option<String>,
}

impl Line {
    pub fn attr(key: &str, value: String) -> Line {
        Line {
            key: key.into(),
            value: Some(value),
            ..Line::default()
        }
    }

    pub fn with_comment(mut self, c: impl Into<String>) -> Line {
        self.comment = Some(c.into());
        self
    }

    pub fn with_note(mut self, c: impl Into<String>) -> Line {
        self.notes.push(c.into());
        self
    }
}

/// A `.stack` string literal.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A list of string literals.
pub fn string_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", items.join(", "))
}

/// A size in MiB, in the largest unit that keeps it whole.
pub fn size(mib: u32) -> String {
    if mib >= 1024 && mib % 1024 == 0 {
        format!("{} GiB", mib / 1024)
    } else {
        format!("{mib} MiB")
    }
}

/// Comment text on one line.
fn comment_text(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Lines of comments wrap before this column.
const WIDTH: usize = 100;

/// Writes `text` as `# ` comment lines, wrapped at word boundaries.
fn write_comment(out: &mut String, indent: &str, text: &str) {
    let text = comment_text(text);
    if text.trim().is_empty() {
        out.push_str(indent);
        out.push_str("#\n");
        return;
    }
    let room = WIDTH.saturating_sub(indent.len() + 2).max(40);
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            out.push_str(&format!("{indent}# {line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&format!("{indent}# {}\n", line.trim_end()));
}

fn write_lines(out: &mut String, lines: &[Line], indent: &str) {
    let width = lines
        .iter()
        .filter(|l| l.value.is_some())
        .map(|l| l.key.len())
        .max()
        .unwrap_or(0);
    for l in lines {
        let mut text = match &l.value {
            Some(v) => format!("{indent}{:width$} = {v}", l.key),
            None => format!("{indent}{}", l.key),
        };
        // A comment that does not fit after the line goes above it.
        let mut trailing = None;
        let mut notes: Vec<&str> = l.notes.iter().map(String::as_str).collect();
        if let Some(c) = &l.comment {
            if text.chars().count() + 4 + c.chars().count() <= WIDTH {
                trailing = Some(c);
            } else {
                notes.push(c);
            }
        }
        for n in notes {
            write_comment(out, indent, n);
        }
        if l.key.is_empty() {
            continue;
        }
        if let Some(c) = trailing {
            text.push_str(&format!("  # {}", comment_text(c)));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
}

pub fn render(p: &Program) -> String {
    let mut out = String::new();
    for h in &p.header {
        write_comment(&mut out, "", h);
    }
    for b in &p.blocks {
        if !out.is_empty() {
            out.push('\n');
        }
        match &b.name {
            Some(name) => out.push_str(&format!("{} {name} {{", b.kind)),
            None => out.push_str(&format!("{} {{", b.kind)),
        }
        if b.notes.is_empty() && b.lines.is_empty() && b.env.is_empty() {
            out.push_str(" }\n");
            continue;
        }
        out.push('\n');
        for n in &b.notes {
            write_comment(&mut out, "  ", n);
        }
        write_lines(&mut out, &b.lines, "  ");
        if !b.env.is_empty() {
            out.push_str("  env {\n");
            write_lines(&mut out, &b.env, "    ");
            out.push_str("  }\n");
        }
        out.push_str("}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
    }

    #[test]
    fn sizes() {
        assert_eq!(size(512), "512 MiB");
        assert_eq!(size(2048), "2 GiB");
        assert_eq!(size(1536), "1536 MiB");
    }
}
