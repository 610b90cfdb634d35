//! Human rendering: each diagnostic as a miette report over an excerpt of the source made
//! for it, then a one-line summary.
//!
//! miette is never given the source itself. For each diagnostic, the lines around its labels
//! are copied into an excerpt where unsafe characters are escaped ([`super::escape`]) and a
//! long line is clipped to a window around its labels (`…` marks a cut); the labels are moved
//! to their place in the excerpt, and the excerpt reports the lines and columns of the real
//! text ([`LineIndex`], the same as `--format json` and the language server). So a report is
//! as long as the lines it shows, whatever the file: no terminal control from the input, no
//! underline misplaced by an escape, no column so far right that miette's layout breaks
//! (it panics past column 65,535), and no reading of the whole text per diagnostic.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use super::Diagnostic;
use super::escape::{escaped_len, is_unsafe, printable, push_escaped};
use crate::syntax::lines::LineIndex;

/// Lines longer than this (in bytes) are clipped.
const CLIP_ABOVE: usize = 160;
/// Characters a clipped line shows before its first label.
const LEAD: usize = 40;
/// Characters a clipped line shows in all.
const SHOWN: usize = 120;
/// Lines of context miette shows around a label (its default).
const CONTEXT: usize = 1;
/// Labels whose contexts are further apart than this many lines are never shown in one
/// snippet (with the lines between them).
const MERGE_GAP: usize = 12;
/// Characters of a message, label or help line that are shown.
const MAX_TEXT: usize = 1000;
/// Marks where a clipped line was cut.
const CUT: &str = "…";

/// Renders diagnostics without colour at a fixed width: what tests snapshot.
pub fn render_plain(name: &str, src: &str, diags: &[Diagnostic]) -> String {
    render(GraphicalTheme::unicode_nocolor(), name, src, diags)
}

/// Renders diagnostics as miette reports followed by a one-line summary.
pub fn render(theme: GraphicalTheme, name: &str, src: &str, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    if diags.is_empty() {
        return out;
    }
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_context_lines(CONTEXT);
    let index = LineIndex::new(src);
    let name = printable(name);
    for d in diags {
        let shown = Shown::new(&index, &name, d);
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &shown);
        out.push('\n');
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    out.push_str(&format!(
        "{name}: {}\n",
        summary(errors, diags.len() - errors)
    ));
    out
}

fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, w) => plural(w, "warning"),
        (e, 0) => plural(e, "error"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

/// One diagnostic as miette shows it: its texts escaped, its labels in an excerpt.
struct Shown<'a> {
    diag: &'a Diagnostic,
    message: String,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    excerpt: Excerpt,
}

impl<'a> Shown<'a> {
    fn new(index: &LineIndex<'_>, name: &str, diag: &'a Diagnostic) -> Self {
        let m = diag.as_miette();
        let real: Vec<LabeledSpan> = m.labels().into_iter().flatten().collect();
        let excerpt = Excerpt::new(index, name, &real);
        let labels = real
            .iter()
            .map(|l| {
                let start = excerpt.map(index, l.offset());
                let end = excerpt.map(index, l.offset() + l.len()).max(start);
                let text = l.label().map(shown_text);
                if l.primary() {
                    LabeledSpan::new_primary_with_span(text, (start, end - start))
                } else {
                    LabeledSpan::new_with_span(text, (start, end - start))
                }
            })
            .collect();
        Shown {
            diag,
            message: shown_text(&m.to_string()),
            help: diag.help().map(|h| shown_text(&h)),
            labels,
            excerpt,
        }
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag.as_miette().code()
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.diag.as_miette().severity()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.excerpt)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// The lines a diagnostic shows, escaped and clipped, in runs of consecutive lines
/// (segments); each line ends with `\n`.
struct Excerpt {
    name: String,
    text: String,
    lines: Vec<ShownLine>,
    segments: Vec<Segment>,
    /// Where each label starts in the excerpt, and its real line and column (from 0): the
    /// position miette prints in the report's header.
    starts: Vec<(usize, usize, usize)>,
}

struct ShownLine {
    /// The real line (from 0).
    line: usize,
    /// Where its text starts in the excerpt.
    at: usize,
    /// The byte range of the real line that is shown.
    window: (usize, usize),
    /// Whether the line was cut before its window.
    cut_before: bool,
}

struct Segment {
    /// The excerpt's byte range, and the real line of its first line.
    start: usize,
    end: usize,
    first_line: usize,
}

impl Excerpt {
    fn new(index: &LineIndex<'_>, name: &str, labels: &[LabeledSpan]) -> Self {
        // The empty line after a final line break is shown only when a label is on it.
        let mut last = index.line_count() - 1;
        if last > 0 && index.line_text(last).is_empty() {
            last -= 1;
        }
        let mut ranges: Vec<(usize, usize)> = labels
            .iter()
            .map(|l| {
                let a = index.line(l.offset());
                let b = index.line(l.offset() + l.len()).max(a);
                (a.saturating_sub(CONTEXT), (b + CONTEXT).min(last).max(b))
            })
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (a, b) in ranges {
            match merged.last_mut() {
                // miette's own rule (it compares a snippet's first line plus its last line
                // with the next snippet's first line), with a bound on the lines in between.
                Some(m) if a <= m.0 + m.1 + 1 && a <= m.1 + 1 + MERGE_GAP => m.1 = m.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let mut x = Excerpt {
            name: name.to_string(),
            text: String::new(),
            lines: Vec::new(),
            segments: Vec::new(),
            starts: Vec::new(),
        };
        for (a, b) in merged {
            let start = x.text.len();
            for line in a..=b {
                let text = index.line_text(line);
                let base = index.line_start(line);
                let points: Vec<usize> = labels
                    .iter()
                    .flat_map(|l| [l.offset(), l.offset() + l.len()])
                    .filter(|&o| index.line(o) == line)
                    .map(|o| index.clamp(o) - base)
                    .collect();
                let window = window(text, &points);
                let at = x.text.len();
                let cut_before = window.0 > 0;
                if cut_before {
                    x.text.push_str(CUT);
                }
                push_printable(&mut x.text, &text[window.0..window.1]);
                if window.1 < text.len() {
                    x.text.push_str(CUT);
                }
                x.text.push('\n');
                x.lines.push(ShownLine {
                    line,
                    at,
                    window,
                    cut_before,
                });
            }
            x.segments.push(Segment {
                start,
                end: x.text.len(),
                first_line: a,
            });
        }
        for l in labels {
            let (line, column) = index.line_col(l.offset());
            x.starts
                .push((x.map(index, l.offset()), line - 1, column - 1));
        }
        x
    }

    /// Where a real offset is shown in the excerpt (its line is always there).
    fn map(&self, index: &LineIndex<'_>, offset: usize) -> usize {
        let offset = index.clamp(offset);
        let line = index.line(offset);
        let Ok(i) = self.lines.binary_search_by_key(&line, |l| l.line) else {
            return 0;
        };
        let l = &self.lines[i];
        let text = index.line_text(line);
        let o = offset - index.line_start(line);
        let (ws, we) = l.window;
        let lead = if l.cut_before { CUT.len() } else { 0 };
        if o < ws {
            return l.at;
        }
        if o > text.len() {
            // In the line break: the break itself.
            return self.lines.get(i + 1).map_or(self.text.len(), |n| n.at) - 1;
        }
        if o > we {
            return l.at + lead + escaped_bytes(&text[ws..we]);
        }
        l.at + lead + escaped_bytes(&text[ws..o])
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let offset = span.offset();
        let seg = self
            .segments
            .iter()
            .find(|s| s.start <= offset && offset < s.end.max(s.start + 1))
            .ok_or(MietteError::OutOfBounds)?;
        // Read within the segment only: the next one holds lines further down the file.
        let text = &self.text.as_bytes()[seg.start..seg.end];
        let local = SourceSpan::new((offset - seg.start).into(), span.len());
        let c = text.read_span(&local, before, after)?;
        let data = c.data();
        // Counted to the end of the segment: miette merges the labels of one segment into one
        // snippet (it merges when this count reaches the next label's line).
        let rest = &text[c.span().offset()..];
        let lines = memchr::memchr_iter(b'\n', rest).count() + usize::from(!rest.ends_with(b"\n"));
        let (line, column) = match self.starts.iter().find(|s| s.0 == offset) {
            Some(&(_, line, column)) if before == 0 => (line, column),
            _ => (c.line() + seg.first_line, c.column()),
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            data,
            SourceSpan::new((c.span().offset() + seg.start).into(), c.span().len()),
            line,
            column,
            lines,
        )))
    }
}

/// The byte range of a line to show: all of it when it is short, else a window that starts a
/// little before the first of `points` (label ends on the line) and is [`SHOWN`] characters
/// wide once escaped.
fn window(text: &str, points: &[usize]) -> (usize, usize) {
    if text.len() <= CLIP_ABOVE {
        return (0, text.len());
    }
    let mut start = points.iter().copied().min().unwrap_or(0).min(text.len());
    for _ in 0..LEAD {
        if start == 0 {
            break;
        }
        start -= 1;
        while !text.is_char_boundary(start) {
            start -= 1;
        }
    }
    let mut end = start;
    let mut width = 0;
    for c in text[start..].chars() {
        if width >= SHOWN {
            break;
        }
        width += escaped_len(c);
        end += c.len_utf8();
    }
    (start, end)
}

/// A message, label or help line as shown: escaped, and cut in the middle when it is longer
/// than [`MAX_TEXT`] characters (it then quotes a huge value from the input).
fn shown_text(s: &str) -> String {
    let s = printable(s);
    if s.len() <= MAX_TEXT {
        return s.into_owned();
    }
    let count = s.chars().count();
    if count <= MAX_TEXT {
        return s.into_owned();
    }
    let head: String = s.chars().take(MAX_TEXT * 2 / 3).collect();
    let tail: String = s.chars().skip(count - MAX_TEXT / 3).collect();
    format!("{head}{CUT}{tail}")
}

fn push_printable(out: &mut String, s: &str) {
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(out, c);
        } else {
            out.push(c);
        }
    }
}

/// The length in bytes of `s` once escaped.
fn escaped_bytes(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if is_unsafe(c) {
                escaped_len(c)
            } else {
                c.len_utf8()
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str) -> String {
        let (_, diags) = crate::compile(src);
        render_plain("t.stack", src, &diags)
    }

    #[test]
    fn control_characters_are_escaped_and_underlined_in_place() {
        let src = "stack s {}\nservice web { image = \"\u{1b}]0;owned\u{7}\" memroy = 1 }\n";
        let out = check(src);
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out}");
        assert!(out.contains("\\u{1b}]0;owned\\u{7}"), "{out}");
        // The underline is under `memroy`, after the escapes.
        let report = &out[out.find("unknown_attribute").unwrap()..];
        let line = report.lines().find(|l| l.contains("│ service")).unwrap();
        let under = report
            .lines()
            .skip_while(|l| !l.contains("│ service"))
            .nth(1)
            .unwrap();
        let col = |s: &str, pat: &str| s.find(pat).map(|b| s[..b].chars().count());
        assert_eq!(col(line, "memroy"), col(under, "─"), "{out}");
    }

    #[test]
    fn long_lines_are_clipped_around_the_label_with_real_positions() {
        let pad = "x".repeat(70_000);
        let src = format!("stack s {{ region = \"{pad}\" memroy = 1 }}\n");
        let out = check(&src);
        assert!(out.len() < 4000, "{}", out.len());
        assert!(out.contains("[t.stack:1:70023]"), "{out}");
        assert!(out.contains("…"), "{out}");
        let line = out.lines().find(|l| l.contains("memroy")).unwrap();
        assert!(line.chars().count() < 200, "{line}");
    }

    #[test]
    fn a_lone_carriage_return_is_a_line_for_the_report_too() {
        let src = "stack s {}\r# note\rservice web { memroy = 1 }\r";
        let out = check(src);
        assert!(out.contains("[t.stack:3:15]"), "{out}");
        let diags = crate::compile(src).1;
        let index = LineIndex::new(src);
        let unknown = diags
            .iter()
            .find(|d| d.code() == "stack::unknown_attribute");
        let json = unknown
            .expect("memroy is unknown")
            .to_json(&index, "t.stack");
        assert_eq!((json.line, json.column), (3, 15));
    }
}
