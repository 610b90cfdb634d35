//! The driver: the text cut into top-level items, each parsed by pest (on threads for a big
//! file, a long item in runs of entries by [`super::chunked`]), the trees built by
//! [`super::build`] and a failure explained by [`super::explain`].

use pest::Parser as _;

use super::ast::*;
use super::build::Builder;
use super::chunked;
use super::error::SyntaxError;
use super::explain::convert_error;
use super::lex::{self, Lexeme};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/stack.pest"]
pub(super) struct StackParser;

/// The result of parsing: the tree when the text has the shape of a program (possibly with
/// recoverable mistakes, reported in `errors`), and the problems found.
#[derive(Debug, Default)]
pub struct Parsed {
    pub file: Option<File>,
    pub errors: Vec<SyntaxError>,
}

/// Parses a whole file. Never panics; a text pest cannot parse gives one `stack::syntax` error.
pub fn parse(src: &str) -> Parsed {
    // One top-level item at a time: pest keeps a token per rule match, and holding the tokens
    // of a whole 10,000-service file would take many times its size in memory. The items are
    // found first by a cheap scan of braces; pest then checks each one's text exactly.
    let mut ranges = Vec::new();
    let mut pos = if src.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    while let Some(start) = skip_trivia(src, pos) {
        let Some(end) = item_end(src, start) else {
            return parse_whole(src);
        };
        ranges.push((start, end));
        pos = end;
    }
    // Big files are parsed on every core: items are independent until the checker. Cores
    // take small chunks in turn, so one slowed by other work does not hold up the rest.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let results: Vec<ItemsParsed> = if src.len() < PARALLEL_ABOVE || threads < 2 {
        vec![parse_items(src, &ranges)]
    } else {
        let chunks: Vec<&[(usize, usize)]> = ranges
            .chunks(ranges.len().div_ceil(threads * CHUNKS_PER_THREAD).max(1))
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut done: Vec<(usize, ItemsParsed)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(chunk) = chunks.get(i) else { break };
                            mine.push((i, parse_items(src, chunk)));
                        }
                        mine
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        if done.len() < chunks.len() {
            // A thread failed (it cannot, short of a bug): the whole-file path decides.
            return parse_whole(src);
        }
        done.sort_unstable_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, r)| r).collect()
    };
    let mut items = Vec::with_capacity(ranges.len());
    let mut errors = Vec::new();
    for r in results {
        // An item pest refuses: the whole-file parse describes the error.
        let Some((i, e)) = r else {
            return parse_whole(src);
        };
        items.extend(i);
        errors.extend(e);
    }
    Parsed {
        file: Some(File { items }),
        errors,
    }
}

/// Files smaller than this are parsed on one thread: starting threads would cost more.
const PARALLEL_ABOVE: usize = 256 * 1024;

/// The items of some ranges and their recoverable errors; None if one does not parse.
type ItemsParsed = Option<(Vec<Item>, Vec<SyntaxError>)>;

/// How many chunks of items each parsing thread takes on average.
const CHUNKS_PER_THREAD: usize = 8;

/// Parses the items at `ranges` (each the exact text of one item); None if one does not parse.
fn parse_items(src: &str, ranges: &[(usize, usize)]) -> ItemsParsed {
    parse_items_in(src, ranges, chunked::CHUNK_ABOVE, chunked::CHUNK)
}

/// [`parse_items`], reading items over `chunk_above` bytes in pieces of about `chunk`.
fn parse_items_in(
    src: &str,
    ranges: &[(usize, usize)],
    chunk_above: usize,
    chunk: usize,
) -> ItemsParsed {
    let mut b = Builder {
        errors: Vec::new(),
        base: 0,
    };
    let mut items = Vec::with_capacity(ranges.len());
    for &(start, end) in ranges {
        if end - start > chunk_above {
            let errors = b.errors.len();
            if let Some(item) = chunked::item(&mut b, src, start, end, chunk) {
                items.push(item);
                continue;
            }
            // A piece did not parse: the item is read whole, from its own errors.
            b.errors.truncate(errors);
        }
        // pest indexes the lines of its whole input, so each call gets just one item's text.
        let item = StackParser::parse(Rule::item_at, &src[start..end])
            .ok()?
            .next()?;
        b.base = start;
        for p in item.into_inner() {
            match p.as_rule() {
                Rule::block_q => items.push(Item::Block(b.block(p))),
                Rule::firewall_q => items.push(Item::Firewall(b.firewall(p))),
                Rule::EOI => {}
                r => unreachable!("item: {r:?}"),
            }
        }
    }
    Some((items, b.errors))
}

/// The first byte at or after `pos` that is not whitespace or a comment; None at the end.
fn skip_trivia(src: &str, pos: usize) -> Option<usize> {
    lex::lexemes(src, pos)
        .find(|l| matches!(l.0, Lexeme::Code | Lexeme::Str { .. }))
        .map(|l| l.1)
}

/// Where the top-level item starting at `start` ends: after the `}` that closes its first
/// `{`, skipping strings and comments. None when the braces do not balance or a string is
/// not closed (a syntax error, which `parse_whole` then describes).
fn item_end(src: &str, start: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut depth = 0usize;
    for (kind, s, e) in lex::lexemes(src, start) {
        match kind {
            Lexeme::Str { closed: false } => return None,
            Lexeme::Code => {
                for (i, &c) in (s..e).zip(&b[s..e]) {
                    match c {
                        b'{' => depth += 1,
                        b'}' => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                return Some(i + 1);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// The whole file in one pest call: the error path, where pest's view of the whole text
/// gives the best "expected ..." message.
fn parse_whole(src: &str) -> Parsed {
    match StackParser::parse(Rule::file, src) {
        Ok(mut pairs) => {
            let mut b = Builder {
                errors: Vec::new(),
                base: 0,
            };
            let file = b.file(pairs.next().expect("the file rule always yields one pair"));
            Parsed {
                file: Some(file),
                errors: b.errors,
            }
        }
        Err(e) => Parsed {
            file: None,
            errors: vec![convert_error(src, &e)],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file big enough to be parsed on threads, in chunks taken in turn, gives the tree and
    /// errors of the one-pass parse, items in source order.
    #[test]
    fn a_big_file_parsed_in_chunks_is_parsed_in_order() {
        let mut src = String::new();
        let mut i = 0;
        while src.len() <= PARALLEL_ABOVE + 4096 {
            // A recoverable mistake now and then (`memory 16 MiB`) so errors merge too.
            let eq = if i % 97 == 0 { "" } else { "= " };
            src.push_str(&format!(
                "service s{i} {{\n  image = \"r/s{i}:1\"\n  memory {eq}16 MiB\n  ports = [{}:80]\n  env {{ A = db.host }}\n}}\n",
                10000 + i
            ));
            i += 1;
        }
        let (chunked, whole) = (parse(&src), parse_whole(&src));
        let file = chunked.file.expect("parses");
        assert_eq!(file.items.len(), i);
        assert_eq!(Some(file), whole.file);
        assert!(!chunked.errors.is_empty());
        assert_eq!(chunked.errors, whole.errors);
    }

    /// The item path (`item_at` and the quiet twins) and the whole-file path (`file`) must
    /// build the same tree and errors: every example and UI test, and each one's every line
    /// dropped in turn (which breaks some items in every way the corpus knows).
    #[test]
    fn both_grammar_paths_build_the_same_tree() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut compared = 0;
        for dir in ["examples", "tests/ui", "tests/fmt"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("a directory") {
                let path = entry.expect("an entry").path();
                if path.extension().is_none_or(|e| e != "stack") {
                    continue;
                }
                let src = std::fs::read_to_string(&path).expect("readable");
                let lines: Vec<&str> = src.lines().collect();
                let variants =
                    std::iter::once(src.clone()).chain((0..lines.len().min(40)).map(|i| {
                        let mut l = lines.clone();
                        l.remove(i);
                        l.join("\n")
                    }));
                for text in variants {
                    let whole = parse_whole(&text);
                    // The item path alone, without its fall-back to the whole file.
                    let mut ranges = Vec::new();
                    let mut pos = 0;
                    while let Some(start) = skip_trivia(&text, pos) {
                        let Some(end) = item_end(&text, start) else {
                            break;
                        };
                        ranges.push((start, end));
                        pos = end;
                    }
                    if skip_trivia(&text, pos).is_some() {
                        continue; // unbalanced braces: only the whole-file path runs
                    }
                    let items = parse_items(&text, &ranges);
                    // Every item read in pieces, one entry a piece: the same items, and no item
                    // that parses falls back to being read whole.
                    let pieces = parse_items_in(&text, &ranges, 0, 1);
                    assert_eq!(items, pieces, "in pieces: {}:\n{text}", path.display());
                    for &(start, end) in &ranges {
                        if parse_items_in(&text, &[(start, end)], usize::MAX, 0).is_some() {
                            let mut b = Builder {
                                errors: Vec::new(),
                                base: 0,
                            };
                            assert!(
                                chunked::item(&mut b, &text, start, end, 1).is_some(),
                                "read in pieces: {}\n{}",
                                path.display(),
                                &text[start..end]
                            );
                        }
                    }
                    let name = path.display();
                    assert_eq!(items.is_some(), whole.file.is_some(), "{name}:\n{text}");
                    if let (Some((items, errors)), Some(file)) = (items, whole.file) {
                        assert_eq!(items, file.items, "{name}:\n{text}");
                        assert_eq!(errors, whole.errors, "{name}:\n{text}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 1000, "compared {compared} texts");
    }

    fn value_of(src: &str) -> (ValueKind, Vec<SyntaxError>) {
        let parsed = parse(&format!("stack a {{ x = {src} }}"));
        let file = parsed
            .file
            .unwrap_or_else(|| panic!("{src} parses: {:?}", parsed.errors));
        let Item::Block(b) = &file.items[0] else {
            panic!("a block")
        };
        let Entry::Attr(a) = &b.entries[0] else {
            panic!("an attribute")
        };
        (a.value.kind.clone(), parsed.errors)
    }

    #[test]
    fn strings_decode_their_escapes() {
        let (v, errors) = value_of(r#""a\"b\\c\nd\te""#);
        assert_eq!(v, ValueKind::Str("a\"b\\c\nd\te".into()));
        assert!(errors.is_empty());
        let (v, errors) = value_of(r#""C:\app""#);
        assert_eq!(v, ValueKind::Str("C:app".into()));
        assert!(matches!(
            errors[..],
            [SyntaxError::BadEscape { escape: 'a', .. }]
        ));
    }

    #[test]
    fn sizes_take_any_spelling_of_a_unit_and_refuse_all_but_binary_ones() {
        assert_eq!(
            value_of("128 MiB"),
            (
                ValueKind::Size {
                    amount: 128,
                    unit: SizeUnit::MiB
                },
                vec![]
            )
        );
        assert_eq!(value_of("20GiB").1, vec![]);
        for (written, meant) in [
            ("128m", "MiB"),
            ("1 GB", "GiB"),
            ("512 mib", "MiB"),
            ("2 T", "TiB"),
            ("64 kb", "KiB"),
        ] {
            let (_, errors) = value_of(written);
            assert!(
                matches!(&errors[..], [SyntaxError::BadUnit { suggestion, .. }] if *suggestion == meant),
                "{written}: {errors:?}"
            );
        }
    }

    #[test]
    fn a_unit_is_not_the_next_key_on_the_line() {
        let parsed = parse("service w { env { A = 1 M = 2 } }");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let Some(File { items }) = parsed.file else {
            panic!("parses")
        };
        let Item::Block(b) = &items[0] else {
            panic!("a block")
        };
        let Entry::Nested(env) = &b.entries[0] else {
            panic!("env")
        };
        assert_eq!(env.attrs.len(), 2);
    }

    #[test]
    fn numbers_too_large_are_reported_once_and_poison_their_value() {
        for src in [
            "99999999999999999999",
            "99999999999999999999 MiB",
            "99999999999999999999:80",
            "80:99999999999999999999",
        ] {
            let (v, errors) = value_of(src);
            assert_eq!(v, ValueKind::Invalid, "{src}");
            assert!(
                matches!(errors[..], [SyntaxError::NumberTooLarge { .. }]),
                "{src}: {errors:?}"
            );
        }
        assert_eq!(value_of("18446744073709551615").0, ValueKind::Int(u64::MAX));
    }

    #[test]
    fn lone_ports_map_to_themselves() {
        assert_eq!(
            value_of("8080").0,
            ValueKind::Int(8080),
            "a lone port is an integer until the checker reads it as a port"
        );
        let (v, _) = value_of("53/udp");
        assert!(
            matches!(
                v,
                ValueKind::Port {
                    host: 53,
                    container: 53,
                    protocol: Some(_)
                }
            ),
            "{v:?}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let parsed = parse("\u{feff}stack a { }");
        assert!(parsed.errors.is_empty());
        assert_eq!(parsed.file.map(|f| f.items.len()), Some(1));
    }

    #[test]
    fn keywords_are_names_in_rules() {
        let parsed = parse("firewall { allow from from to to to }");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    }

    #[test]
    fn every_error_has_a_span_inside_the_text() {
        for src in [
            "",
            "{",
            "}",
            "\"",
            "stack",
            "stack a",
            "stack a {",
            "stack a { x",
            "stack a { x =",
            "é",
            "firewall { allow",
        ] {
            let parsed = parse(src);
            assert!(
                parsed.file.is_none() || !parsed.errors.is_empty() || src.is_empty(),
                "{src:?}"
            );
            for e in &parsed.errors {
                let span = match e {
                    SyntaxError::Unexpected { span, .. }
                    | SyntaxError::UnclosedBlock { span, .. }
                    | SyntaxError::UnterminatedString { span }
                    | SyntaxError::MissingEq { span, .. }
                    | SyntaxError::BadEscape { span, .. }
                    | SyntaxError::BadUnit { span, .. }
                    | SyntaxError::NamedFirewall { span }
                    | SyntaxError::NumberTooLarge { span, .. } => *span,
                };
                assert!(
                    span.start <= span.end && span.end as usize <= src.len(),
                    "{src:?}: {e:?}"
                );
            }
        }
    }
}
