//! `.dockerignore`: which files of a build context the container CLI sends, with Docker's own
//! semantics, so that the content hash covers exactly what a build can see.
//!
//! Docker's rules are not `.gitignore`'s (which the `ignore` crate implements): a pattern is
//! anchored at the context's root (`foo` is `/foo`, never `a/foo`), a trailing `/` means
//! nothing, `*` and `?` never cross a `/` while `**` spans any number of directories, a pattern
//! that matches a directory excludes everything under it, and the last pattern that matches a
//! path or one of its parents, `!` exceptions included, decides. This is a port of the code
//! that decides it — `ignorefile.ReadAll` (reading the file) and `patternmatcher` (matching)
//! of moby/patternmatcher, which BuildKit's context sender (tonistiigi/fsutil) and podman's
//! (containers/storage's fork of it) both run — including its shortcuts, which are part of
//! the behaviour (`**foo` matches `barfoo`).

use regex_lite::Regex;

/// One pattern of a `.dockerignore`, cleaned, with how it matches.
#[derive(Debug)]
struct Pattern {
    /// The pattern after cleaning, without its `!`.
    text: String,
    /// A `!` exception: a path it matches is sent again.
    exception: bool,
    how: How,
}

/// patternmatcher's match types: the first three are its shortcuts for patterns that need no
/// regular expression, and they decide some paths differently from the expression would.
#[derive(Debug)]
enum How {
    /// The path is the pattern.
    Exact,
    /// `foo/**`, `foo**`: the path starts with the pattern less its `**`.
    Prefix,
    /// `**/foo`, `**foo`: the path ends with the pattern less its `**` (or is `foo`).
    Suffix,
    Regex(Regex),
}

/// A pattern that cannot be compiled (Docker refuses the file too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPattern {
    /// The pattern as the file has it, after cleaning.
    pub pattern: String,
}

/// The patterns of a `.dockerignore` in order, ready to match relative paths (`/`-separated,
/// no leading `./`).
#[derive(Debug, Default)]
pub struct Patterns {
    patterns: Vec<Pattern>,
}

/// The patterns of a `.dockerignore`'s text, as `ignorefile.ReadAll` reads them: a UTF-8 byte
/// order mark dropped, lines starting with `#` dropped (before trimming: `  #x` is a pattern),
/// blanks dropped, the rest trimmed, cleaned like a path, and a leading `/` removed; a `!`
/// (with spaces after it) marks an exception.
pub fn read(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.split('\n') {
        // Go's line scanner drops one `\r` before the `\n`.
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let exception = pattern.starts_with('!');
        if exception {
            pattern = pattern[1..].trim();
        }
        let mut cleaned = String::new();
        if !pattern.is_empty() {
            cleaned = clean(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
        }
        out.push(if exception {
            format!("!{cleaned}")
        } else {
            cleaned
        });
    }
    out
}

/// Go's `filepath.Clean` on a `/`-separated path: no empty or `.` elements, `..` folded into
/// the element before it (and dropped at the root), `.` for nothing.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

impl Patterns {
    /// The matcher of `patterns` (as [`read`] gives them), as `patternmatcher.New` builds it.
    /// A lone `!` and a pattern that is not a valid expression are refused, as Docker does.
    pub fn new(patterns: &[String]) -> Result<Patterns, BadPattern> {
        let mut out = Vec::with_capacity(patterns.len());
        for p in patterns {
            let p = p.trim();
            if p.is_empty() {
                continue;
            }
            let cleaned = clean(p);
            let (exception, text) = match cleaned.strip_prefix('!') {
                Some("") => return Err(BadPattern { pattern: cleaned }),
                Some(rest) => (true, rest.to_string()),
                None => (false, cleaned),
            };
            let how = compile(&text).ok_or_else(|| BadPattern {
                pattern: text.clone(),
            })?;
            out.push(Pattern {
                text,
                exception,
                how,
            });
        }
        Ok(Patterns { patterns: out })
    }

    /// Appends a pattern that is known to be valid (a `!` exception for a file that is always
    /// sent).
    pub fn push_exception(&mut self, path: &str) {
        if let Some(how) = compile(path) {
            self.patterns.push(Pattern {
                text: path.to_string(),
                exception: true,
                how,
            });
        }
    }

    /// Whether `path` is excluded: the last pattern that matches it or one of its parent
    /// directories decides (patternmatcher's `MatchesOrParentMatches`).
    pub fn excludes(&self, path: &str) -> bool {
        self.excludes_under(path, None).0
    }

    /// [`Patterns::excludes`] given what each pattern did for the parent directory (`None` at
    /// the top), and what each did for `path`, for its children: patternmatcher's
    /// `MatchesUsingParentResults`, which BuildKit's walk calls.
    pub fn excludes_under(&self, path: &str, parent: Option<&[bool]>) -> (bool, Vec<bool>) {
        let mut excluded = false;
        let mut matched = vec![false; self.patterns.len()];
        for (i, pattern) in self.patterns.iter().enumerate() {
            let mut hit = parent.is_some_and(|p| p[i]);
            if !hit {
                // An inclusion cannot change an excluded path, nor an exception a sent one.
                if pattern.exception != excluded {
                    continue;
                }
                hit = pattern.matches(path);
                if !hit && parent.is_none() {
                    hit = ancestors(path).any(|dir| pattern.matches(dir));
                }
            }
            matched[i] = hit;
            if hit {
                excluded = !pattern.exception;
            }
        }
        (excluded, matched)
    }

    /// Whether an excluded directory `dir` must still be walked because an exception could
    /// send something under it. BuildKit skips it only when every exception is a plain path
    /// (after a trailing `/**` or `/*`) and none lies under `dir`; otherwise it walks it and
    /// matches each path.
    pub fn may_send_under(&self, dir: &str) -> bool {
        let exceptions = || self.patterns.iter().filter(|p| p.exception);
        if exceptions().next().is_none() {
            return false;
        }
        let without_glob = |p: &Pattern| {
            let t = p.text.as_str();
            let t = t.strip_suffix("/**").unwrap_or(t);
            t.strip_suffix("/*").unwrap_or(t).to_string()
        };
        if exceptions().any(|p| without_glob(p).contains(['*', '[', ']', '?', '^', '\\'])) {
            return true;
        }
        let dir_slash = format!("{dir}/");
        exceptions().any(|p| format!("{}/", without_glob(p)).starts_with(&dir_slash))
    }
}

/// The parent directories of a relative path, shortest first (`a`, `a/b` for `a/b/c`).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.how {
            How::Exact => path == self.text,
            How::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            How::Suffix => {
                let suffix = &self.text[2..];
                path.ends_with(suffix) || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            How::Regex(re) => re.is_match(path),
        }
    }
}

/// patternmatcher's `compile`: the pattern as a regular expression, or one of its shortcuts
/// when the pattern needs none. None when the expression does not compile.
fn compile(pattern: &str) -> Option<How> {
    #[derive(PartialEq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut re = String::from("^");
    let mut kind = Kind::Exact;
    let mut chars = pattern.chars().peekable();
    let mut i = 0;
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                // `**/` is `**`.
                if chars.peek() == Some(&'/') {
                    chars.next();
                }
                if chars.peek().is_none() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        re.push_str(".*");
                        kind = Kind::Regex;
                    }
                } else {
                    re.push_str("(.*/)?");
                    kind = Kind::Regex;
                }
                if i == 0 {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                kind = Kind::Regex;
            }
            '?' => {
                re.push_str("[^/]");
                kind = Kind::Regex;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                re.push('\\');
                re.push(c);
            }
            '\\' => match chars.next() {
                Some(next) => {
                    re.push('\\');
                    re.push(next);
                    kind = Kind::Regex;
                }
                None => re.push('\\'),
            },
            '[' | ']' => {
                re.push(c);
                kind = Kind::Regex;
            }
            c => re.push(c),
        }
        i += 1;
    }
    Some(match kind {
        Kind::Exact => How::Exact,
        Kind::Prefix => How::Prefix,
        Kind::Suffix => How::Suffix,
        Kind::Regex => {
            re.push('$');
            How::Regex(Regex::new(&re).ok()?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(text: &str) -> Patterns {
        Patterns::new(&read(text)).expect("valid patterns")
    }

    /// Asserts which of `paths` `text` excludes.
    fn check(text: &str, excluded: &[&str], sent: &[&str]) {
        let p = patterns(text);
        for path in excluded {
            assert!(p.excludes(path), "{text:?} should exclude {path}");
        }
        for path in sent {
            assert!(!p.excludes(path), "{text:?} should send {path}");
        }
    }

    #[test]
    fn the_dockerfile_reference_example() {
        // "Dockerfile reference", .dockerignore file: its example and the behaviour it states.
        let text = "# comment\n*/temp*\n*/*/temp*\ntemp?\n";
        check(
            text,
            &[
                "somedir/temporary.txt",
                "somedir/temp",
                "somedir/temp/inside.txt",
                "somedir/subdir/temporary.txt",
                "tempa",
                "tempb",
            ],
            &[
                "temporary.txt",
                "temp",
                "a/b/c/temporary.txt",
                "# comment",
                "tempab",
            ],
        );
    }

    #[test]
    fn root_and_leading_slash_mean_the_same() {
        // "the patterns /foo/bar and foo/bar both exclude a file or directory named bar in the
        // foo subdirectory ... Neither excludes anything else."
        for text in ["/foo/bar", "foo/bar", "foo/bar/", "./foo//bar"] {
            check(
                text,
                &["foo/bar", "foo/bar/baz.txt"],
                &["bar", "x/foo/bar", "foo/barn", "foo"],
            );
        }
    }

    #[test]
    fn double_star_spans_directories_including_none() {
        // "**/*.go excludes all files that end with .go found anywhere in the build context."
        check(
            "**/*.go",
            &["main.go", "a/main.go", "a/b/c/main.go"],
            &["main.rs", "a/go", "main.go.txt"],
        );
        check(
            "a/**/z",
            &["a/z", "a/b/z", "a/b/c/z", "a/b/z/inside"],
            &["z", "b/a/z", "a/zz"],
        );
        check("logs/**", &["logs/a", "logs/a/b"], &["logs2/a"]);
    }

    #[test]
    fn shortcuts_behave_as_docker_s() {
        // patternmatcher's suffix shortcut: `**foo` is "ends with foo", not `(.*/)?foo`.
        check("**foo", &["foo", "barfoo", "a/barfoo"], &["foo.txt"]);
        // `**/foo` also matches `foo` at the root, and everything under a `foo`.
        check("**/foo", &["foo", "a/foo", "a/foo/b"], &["afoo", "foob"]);
        // The prefix shortcut: `foo**` is "starts with foo".
        check("foo**", &["foo", "foobar", "foobar/x"], &["afoo"]);
    }

    #[test]
    fn single_star_and_question_mark_stay_in_one_directory() {
        check("*.md", &["README.md", "docs.md/x"], &["docs/README.md"]);
        check("a?c", &["abc", "a.c"], &["a/c", "ac", "abbc"]);
        check("[a-c]x", &["ax", "bx"], &["dx", "a/x"]);
        check(r"\*x", &["*x"], &["ax"]);
        // Characters that mean something to a regular expression are literal here.
        check("a.b(c)+{d}$|e", &["a.b(c)+{d}$|e"], &["axb"]);
    }

    #[test]
    fn exceptions_in_order() {
        // The reference's examples: "*.md / !README.md" sends only README.md; the last
        // matching line decides.
        check("*.md\n!README.md", &["CHANGES.md"], &["README.md"]);
        check(
            "*.md\n!README*.md\nREADME-secret.md",
            &["CHANGES.md", "README-secret.md"],
            &["README.md", "README-public.md"],
        );
        check(
            "*.md\nREADME-secret.md\n!README*.md",
            &["CHANGES.md"],
            &["README-secret.md", "README.md"],
        );
        // "*" then exceptions: name what to send.
        check(
            "*\n!src\n!Dockerfile",
            &["target/x", "notes"],
            &["src/main.rs", "Dockerfile"],
        );
    }

    #[test]
    fn a_directory_pattern_excludes_its_contents_and_exceptions_reach_inside() {
        check(
            "node_modules\n!node_modules/keep/**",
            &["node_modules", "node_modules/a/index.js"],
            &["node_modules/keep/x.js"],
        );
        // An exception for a directory's file under an excluded directory.
        check("docs\n!docs/README.md", &["docs/a.md"], &["docs/README.md"]);
    }

    #[test]
    fn reading_the_file() {
        assert_eq!(
            read("\u{feff}# c\n  #not a comment\n\n  a/b/ \r\n!  /c\n/\n!\nd/../e\n"),
            ["#not a comment", "a/b", "!c", "/", "!", "e"]
        );
        // A lone `!` is refused, as Docker refuses it.
        assert_eq!(
            Patterns::new(&read("!\n")).map(|_| ()),
            Err(BadPattern {
                pattern: "!".into()
            })
        );
        assert!(Patterns::new(&read("a[\n")).is_err());
    }

    #[test]
    fn clean_is_go_s() {
        for (path, want) in [
            ("", "."),
            (".", "."),
            ("a/", "a"),
            ("a//b", "a/b"),
            ("./a", "a"),
            ("a/./b/..", "a"),
            ("../a", "../a"),
            ("a/../../b", "../b"),
            ("/../a", "/a"),
            ("/", "/"),
            ("!a/", "!a"),
        ] {
            assert_eq!(clean(path), want, "{path:?}");
        }
    }

    #[test]
    fn excluded_directories_are_walked_only_when_an_exception_may_reach_inside() {
        assert!(!patterns("node_modules").may_send_under("node_modules"));
        assert!(patterns("node_modules\n!node_modules/keep").may_send_under("node_modules"));
        assert!(!patterns("node_modules\n!src/keep").may_send_under("node_modules"));
        // A trailing glob is still a plain path for BuildKit.
        assert!(patterns("a\n!a/b/**").may_send_under("a"));
        // An exception with a wildcard may match at any depth.
        assert!(patterns("a\n!**/*.keep").may_send_under("a"));
    }

    #[test]
    fn parent_results_give_what_matching_each_ancestor_gives() {
        let p = patterns("a\n!a/b\na/b/c*\n!**/keep");
        let mut parent: Option<Vec<bool>> = None;
        let mut path = String::new();
        for part in ["a", "b", "cd", "keep", "x"] {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(part);
            let (excluded, info) = p.excludes_under(&path, parent.as_deref());
            assert_eq!(excluded, p.excludes(&path), "{path}");
            parent = Some(info);
        }
    }
}
