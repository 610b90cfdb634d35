//! Explaining a failure: pest's "expected ..." at a position, said in words that tell what
//! to write (an unclosed block by its indentation, a key without a value, a misspelt kind),
//! from the context of the failing position found by one scan of the text before it.

use pest::error::{ErrorVariant, InputLocation};

use super::ast::Span;
use super::error::SyntaxError;
use super::lex::{self, Lexeme};
use super::parser::Rule;

/// The kinds of block a file may hold, for messages (the checker owns the real table).
const KINDS: &[&str] = &[
    "stack",
    "environment",
    "service",
    "postgres",
    "redis",
    "firewall",
];

const BLOCKS_HELP: &str =
    "a file holds blocks: `stack`, `environment`, `service`, `postgres`, `redis` and `firewall`";

pub(super) fn convert_error(src: &str, e: &pest::error::Error<Rule>) -> SyntaxError {
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut err = describe_error(src, pos, e);
    // A character that looks like a space (or like nothing): whatever was expected, the fix
    // is the same.
    if let (Some(_), SyntaxError::Unexpected { help, .. }) =
        (src[pos..].chars().next().and_then(invisible), &mut err)
    {
        *help = Some(
            "stackc reads only ASCII spaces, tabs and line breaks between words: retype it as a plain space, or remove it"
                .into(),
        );
    }
    err
}

fn describe_error(src: &str, pos: usize, e: &pest::error::Error<Rule>) -> SyntaxError {
    // A string that runs into the end of its line: pest fails at its opening quote.
    if let Some((Lexeme::Str { closed: false }, start, end)) = lex::lexemes(src, pos).next() {
        return SyntaxError::UnterminatedString {
            span: Span::new(start, end.max(start + 1)),
        };
    }
    let positives: &[Rule] = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => &[],
    };
    if let Some(err) = non_ascii_name(src, pos) {
        return err;
    }
    if let Some(err) = number_run_into_letters(src, pos) {
        return err;
    }
    let cx = Context::scan(src, pos);
    if let Some(err) = unclosed_block(src, pos, &cx) {
        return err;
    }
    let (tok_end, found) = found_at(src, pos);
    if cx.open.is_empty() {
        if let Some(err) = top_level(src, pos, tok_end, &found, positives, &cx) {
            return err;
        }
    }
    if let Some(err) = key_without_value(src, pos, &found) {
        return err;
    }
    let in_firewall = cx
        .innermost_header(src)
        .is_some_and(|h| h.starts_with("firewall"));
    if in_firewall {
        if let Some(err) = firewall_rule(src, pos, tok_end, &found, positives, &cx) {
            return err;
        }
    }
    let in_env = cx.open.len() >= 2;
    let expected = expected_words(positives, in_firewall, in_env);
    let help = help_for(src, pos, positives, &found, in_firewall, in_env);
    SyntaxError::Unexpected {
        span: Span::new(pos, tok_end),
        expected,
        found,
        help,
    }
}

/// A letter outside ASCII in or at the start of a name (`service wéb`).
fn non_ascii_name(src: &str, pos: usize) -> Option<SyntaxError> {
    let c = src[pos..].chars().next()?;
    if matches!(c, '“' | '”' | '‘' | '’' | '«' | '»') {
        return Some(SyntaxError::Unexpected {
            span: Span::new(pos, pos + c.len_utf8()),
            expected: "a value".into(),
            found: format!("`{c}`"),
            help: Some("strings are written with straight quotes: `\"...\"`".into()),
        });
    }
    if c.is_ascii() || !c.is_alphanumeric() {
        return None;
    }
    let name_char = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let start = src[..pos]
        .rfind(|c: char| !name_char(c))
        .map_or(0, |i| i + src[i..].chars().next().map_or(1, char::len_utf8));
    let end = src[pos..]
        .find(|c: char| !name_char(c))
        .map_or(src.len(), |i| pos + i);
    Some(SyntaxError::Unexpected {
        span: Span::new(start, end),
        expected: "an ASCII name".into(),
        found: format!("`{}`", &src[start..end]),
        help: Some(
            "names and keys use ASCII letters, digits, `_` and `-`; other characters go in strings"
                .into(),
        ),
    })
}

/// `1e30`, `10x`: digits run into letters, which no value is.
fn number_run_into_letters(src: &str, pos: usize) -> Option<SyntaxError> {
    let b = src.as_bytes();
    if !b.get(pos)?.is_ascii_alphabetic() || pos == 0 || !b[pos - 1].is_ascii_digit() {
        return None;
    }
    let start = b[..pos]
        .iter()
        .rposition(|c| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    if start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_') {
        return None;
    }
    let end = b[pos..]
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'.'))
        .map_or(b.len(), |i| pos + i);
    Some(SyntaxError::Unexpected {
        span: Span::new(start, end),
        expected: "a whole number".into(),
        found: format!("`{}`", &src[start..end]),
        help: Some(
            "numbers are whole and written in decimal digits (`1024`); a size takes a unit: `512 MiB`"
                .into(),
        ),
    })
}

/// A block still open at the end of the file, or at the header of a next top-level block.
fn unclosed_block(src: &str, pos: usize, cx: &Context) -> Option<SyntaxError> {
    let outer = cx.open.last()?;
    let at_end = src[pos..].trim().is_empty();
    let header_of = |o: &Open| {
        let h = o.header(src);
        if h.is_empty() {
            "block".to_string()
        } else {
            format!("{h} {{ ... }}")
        }
    };
    // An inner block closed by a `}` whose indentation says it was meant for `outer`: the
    // inner block is the one without its `}`.
    if let Some(m) = &outer.misclosed {
        let (inner, before) = (&m.0, m.1);
        let looks_unclosed = at_end || next_block_header(src, pos, outer).is_some();
        if looks_unclosed {
            return Some(SyntaxError::UnclosedBlock {
                span: Span::new(before, before),
                open: Span::new(inner.brace, inner.brace + 1),
                header: header_of(inner),
                label: "expected `}` here".into(),
                help: Some(format!(
                    "add `}}` to close `{}`; judging by its indentation, the `}}` after it closes `{}`",
                    inner.header(src),
                    outer.header(src)
                )),
            });
        }
    }
    let header = header_of(outer);
    let open = outer;
    let more = if cx.open.len() > 1 {
        format!(" ({} blocks are open here)", cx.open.len())
    } else {
        String::new()
    };
    if at_end {
        return Some(SyntaxError::UnclosedBlock {
            span: Span::new(cx.last_token_end, cx.last_token_end),
            open: Span::new(open.brace, open.brace + 1),
            header,
            label: "the file ends here".into(),
            help: Some(format!("add `}}` at the end of the block{more}")),
        });
    }
    let (start, word) = next_block_header(src, pos, open)?;
    Some(SyntaxError::UnclosedBlock {
        span: Span::new(start, start + word.len()),
        open: Span::new(open.brace, open.brace + 1),
        header,
        label: "expected `}` before this block".into(),
        help: Some(format!("add `}}` at the end of the block{more}")),
    })
}

/// The header of a top-level block (`service api {`) on the line of `pos`, inside `open`:
/// where its kind starts, and the kind.
fn next_block_header<'s>(src: &'s str, pos: usize, open: &Open) -> Option<(usize, &'s str)> {
    let line_start = lex::line_start(src, pos);
    let line = &src[line_start..];
    let indent = line.len() - line.trim_start().len();
    let (word, rest) = split_word(line.trim_start());
    let after_name = if word == "firewall" {
        rest
    } else {
        split_word(rest.trim_start()).1
    };
    let looks_like_header = KINDS.contains(&word)
        && after_name.trim_start().starts_with('{')
        && (word == "firewall" || !split_word(rest.trim_start()).0.is_empty());
    let start = line_start + indent;
    (looks_like_header && start > open.brace && start <= pos).then_some((start, word))
}

/// Mistakes between blocks: junk, a stray `}`, a block without a name or without `{`.
fn top_level(
    src: &str,
    pos: usize,
    tok_end: usize,
    found: &str,
    positives: &[Rule],
    cx: &Context,
) -> Option<SyntaxError> {
    let expects_block = positives
        .iter()
        .any(|r| matches!(r, Rule::EOI | Rule::kw_firewall | Rule::file));
    if expects_block {
        let help = if found == "`}`" {
            "this `}` closes no block: remove it".to_string()
        } else if src[pos..].starts_with("//") || src[pos..].starts_with("/*") {
            "comments start with `#`".to_string()
        } else {
            BLOCKS_HELP.to_string()
        };
        return Some(SyntaxError::Unexpected {
            span: Span::new(pos, tok_end),
            expected: "a block".into(),
            found: found.to_string(),
            help: Some(help),
        });
    }
    let words = &cx.words;
    if positives == [Rule::lbrace] && words.len() >= 2 {
        let (ks, ke) = words[words.len() - 2];
        let (ns, ne) = words[words.len() - 1];
        let kind = &src[ks..ke];
        if !KINDS.contains(&kind) {
            // `hello world` between blocks: a block that is not one.
            let close = KINDS
                .iter()
                .map(|k| (k, strsim::normalized_damerau_levenshtein(kind, k)))
                .filter(|(_, score)| *score >= 0.6)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(k, _)| k);
            return Some(SyntaxError::Unexpected {
                span: Span::new(ks, ke),
                expected: "a block".into(),
                found: format!("`{kind}`"),
                help: Some(match close {
                    Some(k) => {
                        format!("did you mean `{k}`? blocks are written `{k} NAME {{ ... }}`")
                    }
                    None => BLOCKS_HELP.to_string(),
                }),
            });
        }
        let name = &src[ns..ne];
        return Some(SyntaxError::Unexpected {
            span: Span::new(pos, tok_end),
            expected: format!("`{{` after `{kind} {name}`"),
            found: found.to_string(),
            help: Some(format!("a block is written `{kind} {name} {{ ... }}`")),
        });
    }
    if positives == [Rule::ident] && !words.is_empty() {
        let (ks, ke) = words[words.len() - 1];
        let kind = &src[ks..ke];
        return Some(SyntaxError::Unexpected {
            span: Span::new(pos, tok_end),
            expected: format!("a name after `{kind}`"),
            found: found.to_string(),
            help: Some(format!("blocks are named: `{kind} web {{ ... }}`")),
        });
    }
    None
}

/// Mistakes inside a firewall rule that pest sees one word too late: a trailing `,` before
/// `from` or `to`, or nothing to allow.
fn firewall_rule(
    src: &str,
    pos: usize,
    tok_end: usize,
    found: &str,
    positives: &[Rule],
    cx: &Context,
) -> Option<SyntaxError> {
    let words = &cx.words;
    let last = *words.last()?;
    let last_word = &src[last.0..last.1];
    let before_last = src[..last.0].trim_end();
    if positives.contains(&Rule::kw_from) && last_word == "from" {
        if before_last.ends_with(',') {
            let comma = before_last.len() - 1;
            return Some(SyntaxError::Unexpected {
                span: Span::new(comma, comma + 1),
                expected: "a port or a name after `,`".into(),
                found: "`from`".into(),
                help: Some("remove the trailing `,`".into()),
            });
        }
        if before_last.ends_with("allow") {
            return Some(SyntaxError::Unexpected {
                span: Span::new(last.0, last.1),
                expected: "a port or a data store after `allow`".into(),
                found: "`from`".into(),
                help: Some(
                    "rules are `allow PORTS from SOURCES to SERVICE` or `allow STORES from SERVICES`".into(),
                ),
            });
        }
    }
    if positives.contains(&Rule::kw_to) && last_word == "to" && before_last.ends_with(',') {
        let comma = before_last.len() - 1;
        return Some(SyntaxError::Unexpected {
            span: Span::new(comma, comma + 1),
            expected: "a source after `,`".into(),
            found: "`to`".into(),
            help: Some("remove the `,` before `to`".into()),
        });
    }
    let _ = (pos, tok_end, found);
    None
}

/// `essential` alone on a line, then `image = "x"`: the parser took `essential image` for an
/// attribute without `=` and fails at the second `=`. The mistake is the key without a value.
fn key_without_value(src: &str, pos: usize, found: &str) -> Option<SyntaxError> {
    if found != "`=`" {
        return None;
    }
    let line_start = lex::line_start(src, pos);
    if line_start == 0 {
        return None;
    }
    let (this_key, rest) = split_word(src[line_start..pos].trim_start());
    if this_key.is_empty() || !rest.trim().is_empty() {
        return None;
    }
    let prev = src[..line_start].trim_end();
    let prev_start = lex::line_start(prev, prev.len());
    let prev_line = &prev[prev_start..];
    let (key, rest) = split_word(prev_line.trim_start());
    if key.is_empty() || !rest.trim().is_empty() {
        return None;
    }
    let start = prev_start + (prev_line.len() - prev_line.trim_start().len());
    Some(SyntaxError::Unexpected {
        span: Span::new(start, start + key.len()),
        expected: format!("`=` and a value after `{key}`"),
        found: "end of line".into(),
        help: Some(format!(
            "give `{key}` a value, e.g. `{key} = ...`, or remove it"
        )),
    })
}

/// The first word of `s` (letters, digits, `_`, `-`) and the rest.
fn split_word(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(s.len());
    s.split_at(end)
}

/// The token at `pos`, described for a message, and where it ends.
fn found_at(src: &str, pos: usize) -> (usize, String) {
    let rest = &src[pos..];
    let Some(c) = rest.chars().next() else {
        return (pos, "end of file".to_string());
    };
    if c == '"' {
        let end = lex::lexemes(src, pos).next().map_or(src.len(), |l| l.2);
        return (end, "a string".to_string());
    }
    let len = if c.is_ascii_alphanumeric() || c == '_' {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len())
    } else {
        c.len_utf8()
    };
    let tok = &rest[..len];
    let shown = if c == '\n' || c == '\r' {
        "end of line".to_string()
    } else if c.is_control() {
        format!("{c:?}")
    } else if let Some(name) = invisible(c) {
        format!("`U+{:04X}` ({name})", c as u32)
    } else {
        format!("`{tok}`")
    };
    (pos + len, shown)
}

/// What a character that looks like nothing (or like a space) is, in words; None for the
/// others. Such a character between two words reads as a space to people, not to stackc.
fn invisible(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{a0}' => "a no-break space",
        '\u{202f}' => "a narrow no-break space",
        '\u{2028}' => "a line separator",
        '\u{2029}' => "a paragraph separator",
        '\u{200b}' => "a zero-width space",
        '\u{feff}' => "a zero-width no-break space",
        '\u{ad}' => "a soft hyphen",
        '\u{3000}' => "an ideographic space",
        c if c.is_whitespace() => "a Unicode space",
        '\u{200c}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' => {
            "an invisible formatting character"
        }
        _ => return None,
    })
}

/// What the parser wanted, in words. Recovery rules (a missing `=`, nesting) are left out
/// when the main expectation is clear.
fn expected_words(positives: &[Rule], in_firewall: bool, in_env: bool) -> String {
    let has = |r: Rule| positives.contains(&r);
    let value_start = positives.iter().any(|r| {
        matches!(
            r,
            Rule::string
                | Rule::cidr
                | Rule::integer
                | Rule::boolean
                | Rule::kw_secret
                | Rule::lbracket
        )
    });
    let mut words: Vec<&'static str> = Vec::new();
    let mut push = |w: &'static str| {
        if !words.contains(&w) {
            words.push(w);
        }
    };
    if has(Rule::eq) {
        push("`=`");
    } else if positives == [Rule::string] {
        push("a string");
    } else if in_firewall && value_start {
        push(if has(Rule::ident) {
            "a port or a name"
        } else {
            "a port"
        });
    } else if value_start {
        push("a value");
    }
    for r in positives {
        match r {
            Rule::string
            | Rule::cidr
            | Rule::integer
            | Rule::boolean
            | Rule::kw_secret
            | Rule::lbracket
            | Rule::lbrace
            | Rule::unit
            | Rule::eq => {}
            Rule::ident | Rule::word if value_start || has(Rule::eq) => {}
            Rule::ident | Rule::word if has(Rule::rbrace) => {
                push(if in_env {
                    "`KEY = value`"
                } else {
                    "an attribute"
                });
            }
            Rule::ident | Rule::word => push("a name"),
            Rule::kind | Rule::kw_firewall | Rule::block | Rule::firewall => push("a block"),
            Rule::attr | Rule::attr_no_eq | Rule::nested => push("an attribute"),
            Rule::rule | Rule::kw_allow => push("a rule (`allow ...`)"),
            Rule::kw_from => push("`from`"),
            Rule::kw_to => push("`to`"),
            Rule::comma => push("`,`"),
            Rule::rbrace => push("`}`"),
            Rule::rbracket => push("`]`"),
            Rule::proto => push("`tcp` or `udp`"),
            Rule::EOI => push("end of file"),
            Rule::str_inner => push("a string"),
            _ => push("a value"),
        }
    }
    if words.is_empty() {
        // Only recovery rules were expected (e.g. `{` after a name); say the first.
        if has(Rule::lbrace) {
            words.push("`{`");
        } else if has(Rule::unit) {
            words.push("a unit (`MiB`, `GiB`)");
        } else {
            words.push("something else");
        }
    }
    join_or(&words)
}

fn join_or(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Targeted hints for the mistakes people actually make.
fn help_for(
    src: &str,
    pos: usize,
    positives: &[Rule],
    found: &str,
    in_firewall: bool,
    in_env: bool,
) -> Option<String> {
    let before = src[..pos].trim_end();
    let has = |r: Rule| positives.contains(&r);
    let rest = &src[pos..];
    if rest.starts_with("//") || rest.starts_with("/*") {
        return Some("comments start with `#`".into());
    }
    if in_firewall {
        if before.ends_with(',') {
            return Some("remove the trailing `,`".into());
        }
        if let Some(b) = before.strip_suffix("to") {
            if b.trim_end().ends_with(',') {
                return Some("remove the `,` before `to`".into());
            }
        }
        if has(Rule::kw_from) || has(Rule::kw_allow) {
            return Some(
                "rules are `allow PORTS from SOURCES to SERVICE` or `allow STORES from SERVICES`"
                    .into(),
            );
        }
        return None;
    }
    if has(Rule::eq) {
        return Some(match found {
            "`:`" => "attributes are written `key = value`, not `key: value`".into(),
            "`{`" if in_env => "`env` holds only `KEY = value` lines; blocks nest one level".into(),
            _ => "attributes are written `key = value`".into(),
        });
    }
    if before.ends_with("secret(") && has(Rule::string) {
        let (w, _) = split_word(rest);
        let var = if w.is_empty() { "VAR" } else { w };
        return Some(format!(
            "write the variable name in quotes: `secret(\"{var}\")`"
        ));
    }
    if has(Rule::rbracket) && has(Rule::comma) && !found.starts_with("end") {
        return Some("separate the elements of a list with `,`".into());
    }
    if has(Rule::string) || has(Rule::lbracket) {
        // A value was expected.
        if found == "`=`" && before.ends_with('=') {
            return Some("write one `=`".into());
        }
        if found == "`-`" && rest[1..].starts_with(|c: char| c.is_ascii_digit()) {
            return Some("numbers are whole and never negative".into());
        }
        if found == "`,`" && before.ends_with([',', '[']) {
            return Some("remove the extra `,`".into());
        }
        if found == "`:`" && before.ends_with('"') {
            return Some("write port mappings without quotes: `80:80`".into());
        }
        if let Some(b) = before.strip_suffix('=') {
            if matches!(found, "`}`" | "end of line" | "end of file") || !found.starts_with('`') {
                let key = b
                    .trim_end()
                    .rsplit(|c: char| c.is_whitespace() || c == '{')
                    .next()
                    .unwrap_or("");
                if !key.is_empty() {
                    return Some(format!("give `{key}` a value, e.g. `{key} = \"...\"`"));
                }
            }
        }
        return None;
    }
    if has(Rule::rbrace) {
        // An attribute (or the end of the block) was expected.
        if found == "a string" {
            let word: String = rest[1..]
                .chars()
                .take_while(|c| *c != '"' && *c != '\n' && *c != '\r')
                .collect();
            return Some(format!(
                "write {} without quotes: `{word} = ...`",
                if in_env { "keys" } else { "attribute names" }
            ));
        }
        if found == "`;`" || found == "`,`" {
            return Some(format!(
                "attributes are separated by spaces or newlines: remove the {found}"
            ));
        }
        if let Some(help) = unquoted_value_help(src, pos, found) {
            return Some(help);
        }
        if in_env && found.starts_with("`") && found[1..].starts_with(|c: char| c.is_ascii_digit())
        {
            return Some("environment variable names start with a letter or `_`".into());
        }
        if found == "`[`" || found == "`]`" || found == "`=`" {
            return None;
        }
    }
    None
}

/// `image = nginx:1.27`, `version = 7.1`, `memory = 0.5 GiB`: a value that had to be quoted
/// (or written whole), of which the parser took only the first word.
fn unquoted_value_help(src: &str, pos: usize, found: &str) -> Option<String> {
    if !matches!(found, "`.`" | "`:`" | "`/`" | "`@`") {
        return None;
    }
    let line_start = lex::line_start(src, pos);
    let line_end = lex::line_end(src, pos);
    let (key, value_start) = {
        let eq = src[line_start..pos].rfind('=')? + line_start;
        let key = src[line_start..eq]
            .trim()
            .rsplit([' ', '{'])
            .next()?
            .to_string();
        (key, eq + 1)
    };
    let rest = &src[value_start..line_end];
    let value: String = rest
        .trim_start()
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '}' && *c != '#')
        .collect();
    if key.is_empty() || value.is_empty() {
        return None;
    }
    // `0.5 GiB`: a fractional size, better written in the next smaller unit.
    let after = rest.trim_start()[value.len()..].trim_start();
    let unit: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let smaller = match unit.as_str() {
        "TiB" => Some("GiB"),
        "GiB" => Some("MiB"),
        "MiB" => Some("KiB"),
        _ => None,
    };
    if let (Some(smaller), Ok(x)) = (smaller, value.parse::<f64>()) {
        let scaled = x * 1024.0;
        if scaled.fract() == 0.0 && scaled < 1e15 {
            return Some(format!(
                "sizes are whole numbers: write `{key} = {} {smaller}`",
                scaled as u64
            ));
        }
        return Some("sizes are whole numbers of a unit".into());
    }
    Some(format!("write it in quotes: `{key} = \"{value}\"`"))
}

// ----- Context of an error ------------------------------------------------------------------

/// What surrounds a position in the text: the blocks open there (innermost last), the words
/// written since the last punctuation, and where the last token ends. Computed only for an
/// error, by one linear scan that skips strings and comments.
#[derive(Debug, Default)]
pub(super) struct Context {
    open: Vec<Open>,
    /// Byte spans of the words since the last `{`, `}`, `=` or other punctuation.
    words: Vec<(usize, usize)>,
    last_token_end: usize,
}

#[derive(Debug, Clone)]
struct Open {
    /// Offset of the `{`.
    brace: usize,
    /// The words written before the `{` (`service web`), at most two.
    header: Vec<(usize, usize)>,
    /// Indentation of the line of the `{`.
    indent: usize,
    /// A block inside this one that a `}` closed although, by its indentation, the `}` was
    /// meant for this block: the block that really lacks its `}`. The offset is the end of
    /// the last token before that `}`.
    misclosed: Option<Box<(Open, usize)>>,
}

impl Open {
    fn header(&self, src: &str) -> String {
        let words: Vec<&str> = self.header.iter().map(|&(s, e)| &src[s..e]).collect();
        words.join(" ")
    }
}

impl Context {
    pub(super) fn scan(src: &str, limit: usize) -> Context {
        let b = src.as_bytes();
        let limit = limit.min(b.len());
        let mut cx = Context::default();
        // Where the current line starts, and the indentation of its first token (if any yet).
        let mut line_start = 0;
        let mut line_indent: Option<usize> = None;
        for (kind, start, end) in lex::lexemes(src, 0) {
            if start >= limit {
                break;
            }
            match kind {
                Lexeme::LineEnd => {
                    line_start = end;
                    line_indent = None;
                    continue;
                }
                Lexeme::Space | Lexeme::Comment => continue,
                Lexeme::Str { .. } | Lexeme::Code => {}
            }
            if line_indent.is_none() {
                line_indent = Some(start - line_start);
                if b[start] == b'}' {
                    cx.note_misclosed(start - line_start);
                }
            }
            if let Lexeme::Str { .. } = kind {
                cx.words.clear();
                cx.last_token_end = end;
                continue;
            }
            let mut i = start;
            while i < end.min(limit) {
                match b[i] {
                    b'{' => {
                        // `service web {` at the top, `env {` inside a block.
                        let n = cx.words.len();
                        let take = if cx.open.is_empty() { 2 } else { 1 };
                        let header = cx.words[n.saturating_sub(take)..].to_vec();
                        cx.open.push(Open {
                            brace: i,
                            header,
                            indent: line_indent.unwrap_or(0),
                            misclosed: None,
                        });
                        cx.words.clear();
                    }
                    b'}' => {
                        cx.open.pop();
                        cx.words.clear();
                    }
                    c if c.is_ascii_alphanumeric() || c == b'_' => {
                        let mut j = i;
                        while j < end
                            && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'-')
                        {
                            j += 1;
                        }
                        cx.words.push((i, j));
                        cx.last_token_end = j;
                        i = j;
                        continue;
                    }
                    _ => cx.words.clear(),
                }
                // Multi-byte characters end at a char boundary after their last byte.
                i += 1;
                while i < end && !src.is_char_boundary(i) {
                    i += 1;
                }
                cx.last_token_end = i;
            }
        }
        cx
    }

    /// A `}` first on its line at `indent`, less indented than the line of the `{` it closes,
    /// was probably meant for an outer block.
    fn note_misclosed(&mut self, indent: usize) {
        if let Some(inner) = self.open.last() {
            if indent < inner.indent && self.open.len() >= 2 {
                let inner = inner.clone();
                let n = self.open.len();
                let outer = &mut self.open[n - 2];
                if outer.misclosed.is_none() {
                    outer.misclosed = Some(Box::new((inner, self.last_token_end)));
                }
            }
        }
    }

    fn innermost_header(&self, src: &str) -> Option<String> {
        self.open.last().map(|o| o.header(src))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_context_skips_strings_and_comments() {
        let src = "service web { # {\n  image = \"{ }\"\n  env {\n";
        let cx = Context::scan(src, src.len());
        let headers: Vec<String> = cx.open.iter().map(|o| o.header(src)).collect();
        assert_eq!(headers, ["service web", "env"]);
    }
}
