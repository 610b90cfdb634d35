//! The page of every diagnostic code, for `stackc explain` and `docs/rules.md`: what it checks,
//! why it matters, an example that triggers it, what to write instead, and the matching
//! checkov/trivy ids. The text is data in `docs/rules/CODE.md`, compiled in.

use super::did_you_mean;

/// One code's page.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    /// `stack::NAME`.
    pub code: &'static str,
    /// Markdown: `# stack::NAME`, a line of severity and ids, a one-line summary, then the
    /// sections `What it checks`, `Why it matters`, `Example`, `Instead`.
    pub text: &'static str,
}

impl Page {
    /// The line under the title: severity, checkov and trivy ids.
    pub fn meta(&self) -> &'static str {
        self.text.lines().nth(2).unwrap_or_default()
    }

    /// The one-line summary.
    pub fn summary(&self) -> &'static str {
        self.text.lines().nth(4).unwrap_or_default()
    }
}

macro_rules! pages {
    ($($name:literal),* $(,)?) => {
        &[$(Page {
            code: concat!("stack::", $name),
            text: include_str!(concat!("../../docs/rules/", $name, ".md")),
        }),*]
    };
}

/// Every page: the language's checks in the contract's order, then the lints.
pub static PAGES: &[Page] = pages![
    "syntax",
    "unknown_block",
    "duplicate_name",
    "unknown_name",
    "unknown_attribute",
    "type_mismatch",
    "missing_attribute",
    "out_of_range",
    "invalid_name",
    "missing_item",
    "no_essential",
    "link_cycle",
    "port_conflict",
    "memory",
    "unreachable",
    "unmapped_port",
    "secret_literal",
    "missing_execution_role",
    "env_conflict",
    "load_balancer_port",
    "needs_load_balancer",
    "instance_range",
    "https_port",
    "too_many_containers",
    "shared_identifier",
    "shared_domain",
    "env_too_large",
    "image_source",
    "build_path",
    "unused",
    "public_database",
    "open_to_world",
    "unencrypted",
    "no_backups",
    "no_deletion_protection",
    "single_az",
    "latest_tag",
    "wide_cidr",
    "plain_secret_env",
    "unused_port",
];

/// The page of a code, written with or without `stack::`.
pub fn page(code: &str) -> Option<&'static Page> {
    let name = code.trim().strip_prefix("stack::").unwrap_or(code.trim());
    PAGES
        .iter()
        .find(|p| p.code.strip_prefix("stack::") == Some(name))
}

/// The code closest to a misspelled one.
pub fn closest(code: &str) -> Option<&'static str> {
    let name = code.trim().strip_prefix("stack::").unwrap_or(code.trim());
    let names = PAGES.iter().map(|p| &p.code["stack::".len()..]);
    let found = did_you_mean(name, names)?;
    PAGES
        .iter()
        .find(|p| &p.code["stack::".len()..] == found)
        .map(|p| p.code)
}

/// `stackc explain --list`: one line per code.
pub fn list() -> String {
    let width = PAGES.iter().map(|p| p.code.len()).max().unwrap_or(0);
    let mut out = String::new();
    for p in PAGES {
        let severity = p.meta().split(" · ").next().unwrap_or_default();
        out.push_str(&format!(
            "{:width$}  {:22}  {}\n",
            p.code,
            severity,
            p.summary()
        ));
    }
    out
}

/// The text of `docs/rules.md`.
pub fn rules_doc() -> String {
    let mut out = String::from(
        "<!-- Generated from docs/rules/*.md by `UPDATE_RULES_DOC=1 cargo test --no-default-features --test rules_doc`; do not edit. -->\n\n\
         # Diagnostics of `stackc check`\n\n\
         Every code that `stackc check` can report, with what it checks, why it matters, an example \
         and the fix. `stackc explain CODE` prints one page; `stackc explain --list` lists them.\n\n\
         Lints (from `stack::public_database` on) run once a program has no error. A lint is \
         silenced by an `# allow(stack::CODE)` comment on the line before the item, attribute or \
         firewall rule; `stackc check --format json` still reports it, with `\"suppressed\": true`. \
         `--strict` adds `stack::single_az`, `stack::latest_tag` and unencrypted redis; \
         `--deny-warnings` makes warnings fail the check.\n\n\
         | code | severity · ids | summary |\n|---|---|---|\n",
    );
    for p in PAGES {
        let anchor = p.code.replace("::", "");
        out.push_str(&format!(
            "| [`{}`](#{anchor}) | {} | {} |\n",
            p.code,
            p.meta(),
            p.summary()
        ));
    }
    for p in PAGES {
        out.push('\n');
        // Each page's sections sit one level under its title.
        for line in p.text.lines() {
            if line.starts_with('#') && !line.starts_with("```") {
                out.push('#');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_have_their_shape() {
        for p in PAGES {
            let title = format!("# {}", p.code);
            assert_eq!(p.text.lines().next(), Some(title.as_str()), "{}", p.code);
            assert!(
                p.meta().starts_with("error") || p.meta().starts_with("warning"),
                "{}: `{}`",
                p.code,
                p.meta()
            );
            assert!(!p.summary().is_empty(), "{}", p.code);
            for section in [
                "## What it checks",
                "## Why it matters",
                "## Example",
                "## Instead",
            ] {
                assert!(p.text.contains(section), "{} lacks {section}", p.code);
            }
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(
            page("unused_port").map(|p| p.code),
            Some("stack::unused_port")
        );
        assert_eq!(page("stack::memory").map(|p| p.code), Some("stack::memory"));
        assert!(page("stack::nope").is_none());
        assert_eq!(closest("stack::open_to_wrld"), Some("stack::open_to_world"));
        assert_eq!(closest("zzzzzzzz"), None);
    }
}
