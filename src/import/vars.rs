//! Variables as docker compose reads them: `${VAR}` interpolation in the compose file (from
//! the shell's environment, then the `.env` file beside it), and the `KEY=VALUE` files
//! (`.env`, `env_file`) that hold them.

/// Looks a variable up: the shell's environment first, then `.env`.
pub trait Lookup {
    fn get(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Lookup for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The result of interpolating one value.
#[derive(Debug, Default, PartialEq)]
pub struct Interpolated {
    pub text: String,
    /// Variables that were unset and had no default (compose substitutes an empty string).
    pub unset: Vec<String>,
    /// `${VAR:?message}` of an unset variable: compose refuses to start.
    pub required: Vec<(String, String)>,
}

/// The whole value is one variable (`$VAR`, `${VAR}`), with no default: its name.
pub fn whole_variable(s: &str) -> Option<&str> {
    let name = s
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .or_else(|| s.strip_prefix('$'))?;
    is_name(name).then_some(name)
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Interpolates `s` as compose does: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
/// `${VAR:?error}`, `${VAR?error}`, `${VAR:+other}`, `${VAR+other}` (defaults and
/// alternatives are interpolated in turn), `$$` for `$`. Err with a message for a malformed
/// `${`.
pub fn interpolate(s: &str, vars: &dyn Lookup) -> Result<Interpolated, String> {
    let mut out = Interpolated::default();
    let text = expand(s, vars, &mut out, 0)?;
    out.text = text;
    Ok(out)
}

/// Defaults nest (`${A:-${B:-x}}`); no real file nests deeper than this.
const MAX_NESTING: usize = 16;

fn expand(
    s: &str,
    vars: &dyn Lookup,
    out: &mut Interpolated,
    depth: usize,
) -> Result<String, String> {
    if depth > MAX_NESTING {
        return Err(format!("variables nested more than {MAX_NESTING} deep"));
    }
    let mut text = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            text.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('{') {
            let end = closing_brace(r).ok_or_else(|| format!("`${{` is not closed in `{s}`"))?;
            let inner = &r[..end];
            text.push_str(&braced(inner, s, vars, out, depth)?);
            rest = &r[end + 1..];
        } else {
            let len = after
                .char_indices()
                .find(|&(j, c)| {
                    !(c.is_ascii_alphanumeric() || c == '_') || (j == 0 && c.is_ascii_digit())
                })
                .map_or(after.len(), |(j, _)| j);
            if len == 0 {
                // A lone `$` (`cost: 5$`) is kept, as compose keeps it.
                text.push('$');
                rest = after;
                continue;
            }
            let name = &after[..len];
            text.push_str(&value_of(name, vars, out));
            rest = &after[len..];
        }
    }
    text.push_str(rest);
    Ok(text)
}

/// The offset of the `}` that closes a `${`, nested `${...}` skipped.
fn closing_brace(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn braced(
    inner: &str,
    whole: &str,
    vars: &dyn Lookup,
    out: &mut Interpolated,
    depth: usize,
) -> Result<String, String> {
    let name_len = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, op) = inner.split_at(name_len);
    if !is_name(name) {
        return Err(format!("`${{{inner}}}` in `{whole}` is not a variable"));
    }
    let value = vars.get(name);
    let empty = value.as_deref().is_none_or(str::is_empty);
    let (colon, op) = match op.strip_prefix(':') {
        Some(o) => (true, o),
        None => (false, op),
    };
    let missing = if colon { empty } else { value.is_none() };
    let Some(kind) = op.chars().next() else {
        if colon {
            return Err(format!("`${{{inner}}}` in `{whole}` is not a variable"));
        }
        return Ok(value_of(name, vars, out));
    };
    let arg = &op[kind.len_utf8()..];
    match kind {
        '-' if missing => expand(arg, vars, out, depth + 1),
        '-' => Ok(value.unwrap_or_default()),
        '?' if missing => {
            let message = expand(arg, vars, out, depth + 1)?;
            out.required.push((name.to_string(), message));
            Ok(String::new())
        }
        '?' => Ok(value.unwrap_or_default()),
        '+' if missing => Ok(String::new()),
        '+' => expand(arg, vars, out, depth + 1),
        _ => Err(format!("`${{{inner}}}` in `{whole}` is not a variable")),
    }
}

fn value_of(name: &str, vars: &dyn Lookup, out: &mut Interpolated) -> String {
    match vars.get(name) {
        Some(v) => v,
        None => {
            if !out.unset.iter().any(|u| u == name) {
                out.unset.push(name.to_string());
            }
            String::new()
        }
    }
}

/// One `KEY=VALUE` of a `.env` or `env_file` file, with its 1-based line.
#[derive(Clone, Debug, PartialEq)]
pub struct FileVar {
    pub key: String,
    /// None for a line with a key alone (`KEY`), which compose passes through from the shell.
    pub value: Option<String>,
    pub line: usize,
}

/// Reads a `.env` / `env_file` file as compose does: `KEY=VALUE` lines, `export ` allowed,
/// `#` comments, values unquoted (trimmed, a ` #` comment dropped), `"double"` (escapes
/// `\n`, `\t`, `\"`, `\\`; may span lines) or `'single'` (literal). Unquoted and double-quoted
/// values are interpolated with the variables defined so far and `vars`. Lines that are not
/// assignments are returned as errors with their line.
pub fn read_env_file(text: &str, vars: &dyn Lookup) -> (Vec<FileVar>, Vec<(usize, String)>) {
    let mut out: Vec<FileVar> = Vec::new();
    let mut errors = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let line = lines[i].trim_start_matches('\u{feff}').trim();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let (key, raw) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim_start())),
            None => (line, None),
        };
        if !is_name(key) {
            errors.push((line_no, "not `KEY=VALUE`".to_string()));
            continue;
        }
        let value = match raw {
            None => None,
            Some(v) if v.starts_with('\'') => match v[1..].find('\'') {
                Some(end) => Some(v[1..=end].to_string()),
                None => {
                    errors.push((line_no, format!("the quote of `{key}` is not closed")));
                    continue;
                }
            },
            Some(v) if v.starts_with('"') => {
                // A double-quoted value may go on over the next lines.
                let mut body = v[1..].to_string();
                let mut closed = closing_quote(&body);
                while closed.is_none() && i < lines.len() {
                    body.push('\n');
                    body.push_str(lines[i]);
                    i += 1;
                    closed = closing_quote(&body);
                }
                let Some(end) = closed else {
                    errors.push((line_no, format!("the quote of `{key}` is not closed")));
                    continue;
                };
                Some(unescape(&body[..end]))
            }
            Some(v) => {
                let v = match v.find(" #") {
                    Some(c) => &v[..c],
                    None => v,
                };
                Some(v.trim_end().to_string())
            }
        };
        let quoted_single = raw.is_some_and(|v| v.starts_with('\''));
        let value = match value {
            Some(v) if !quoted_single && v.contains('$') => {
                let known = |name: &str| {
                    out.iter()
                        .rev()
                        .find(|f| f.key == name)
                        .and_then(|f| f.value.clone())
                        .or_else(|| vars.get(name))
                };
                match interpolate(&v, &known) {
                    Ok(x) => Some(x.text),
                    Err(e) => {
                        errors.push((line_no, e));
                        Some(v)
                    }
                }
            }
            v => v,
        };
        out.retain(|f| f.key != key);
        out.push(FileVar {
            key: key.to_string(),
            value,
            line: line_no,
        });
    }
    (out, errors)
}

fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "TAG" => Some("1.2".into()),
            "EMPTY" => Some(String::new()),
            "HOST" => Some("db".into()),
            _ => None,
        }
    }

    fn interp(s: &str) -> Interpolated {
        interpolate(s, &vars).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn compose_forms() {
        assert_eq!(interp("app:${TAG}").text, "app:1.2");
        assert_eq!(interp("app:$TAG-x").text, "app:1.2-x");
        assert_eq!(interp("${NOPE:-80}").text, "80");
        assert_eq!(interp("${EMPTY:-80}").text, "80");
        assert_eq!(interp("${EMPTY-80}").text, "");
        assert_eq!(interp("${NOPE-${HOST}}").text, "db");
        assert_eq!(interp("${NOPE:-${ALSO:-x}}").text, "x");
        assert_eq!(interp("${TAG:+set}").text, "set");
        assert_eq!(interp("${NOPE:+set}").text, "");
        assert_eq!(interp("$$HOME and 5$").text, "$HOME and 5$");
        let i = interp("${A}:${B}:${A}");
        assert_eq!(
            (i.text.as_str(), i.unset),
            (("::"), vec!["A".into(), "B".into()])
        );
        let i = interp("${NOPE:?set it}");
        assert_eq!(i.required, [("NOPE".into(), "set it".into())]);
        assert!(interpolate("${A", &vars).is_err());
        assert!(interpolate("${1A}", &vars).is_err());
        assert!(interpolate("${A:}", &vars).is_err());
        // An operator that is not ASCII is refused, not cut inside.
        assert!(interpolate("${AǾSE}", &vars).is_err());
        assert!(interpolate("${A:é}", &vars).is_err());
        let deep = format!("{}x{}", "${A:-".repeat(40), "}".repeat(40));
        assert!(interpolate(&deep, &vars).is_err());
    }

    #[test]
    fn whole_variables() {
        assert_eq!(whole_variable("${PW}"), Some("PW"));
        assert_eq!(whole_variable("$PW"), Some("PW"));
        assert_eq!(whole_variable("${PW:-x}"), None);
        assert_eq!(whole_variable("x$PW"), None);
    }

    #[test]
    fn env_files() {
        let text = "# c\nA=1\nexport B = two words # note\nC=\"x\\ny\"\nD='${A}'\nE=${A}-$B\nF\nG=\"multi\nline\"\nbad line\n";
        let (v, errors) = read_env_file(text, &vars);
        let got: Vec<(&str, Option<&str>, usize)> = v
            .iter()
            .map(|f| (f.key.as_str(), f.value.as_deref(), f.line))
            .collect();
        assert_eq!(
            got,
            [
                ("A", Some("1"), 2),
                ("B", Some("two words"), 3),
                ("C", Some("x\ny"), 4),
                ("D", Some("${A}"), 5),
                ("E", Some("1-two words"), 6),
                ("F", None, 7),
                ("G", Some("multi\nline"), 8),
            ]
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, 10);
    }
}
