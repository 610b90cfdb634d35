//! Pass 1: block names. Every name is made valid (`[a-z][a-z0-9_-]*`, unique across all
//! blocks, an ECS container name at most 255 characters long), and every host name a
//! container could be reached by (service names, container names, host names, network and
//! link aliases) is mapped to its service.

use std::collections::HashSet;

use super::Plan;
use crate::check::Kind;
use crate::import::{Warnings, store_kind};

/// ECS's longest container name.
const MAX_NAME: usize = 255;
/// The stack's name is at most this long, so that the names derived from it (the
/// environment `<stack>-env`, store identifiers `<stack>-<store>`) stay within AWS's limits.
const MAX_STACK: usize = 30;
/// A store's name ends its security group and subnet group names, `<stack>-<store>`, which
/// have at most 255 characters (EC2, RDS, ElastiCache).
const MAX_STORE: usize = 255 - MAX_STACK - 1;

pub(super) fn assign(plan: &mut Plan<'_>, project: &str, w: &mut Warnings) {
    let app = plan.app;
    // `true` and `false` read as booleans where a name is expected (`links = [true]`).
    let mut taken: HashSet<String> = HashSet::from(["true".to_string(), "false".to_string()]);
    for s in &app.services {
        let mut base = block_name(&s.name, "service");
        let store = s.image.as_deref().and_then(store_kind);
        if let Some(kind) = store {
            if kind == Kind::Redis {
                // ElastiCache's subnet group names take only letters, digits and `-`.
                base = base.replace('_', "-");
            }
            truncate(&mut base, MAX_STORE - 4);
        } else {
            truncate(&mut base, MAX_NAME - 4);
        }
        let name = unique(&base, &mut taken);
        if name != s.name {
            let rule = match store {
                Some(Kind::Redis) => format!(
                    "a redis store's name is lowercase letters, digits and `-`, unique in the file, at most {MAX_STORE} characters"
                ),
                Some(_) => format!(
                    "a data store's name is lowercase letters, digits, `_` and `-`, unique in the file, at most {MAX_STORE} characters"
                ),
                None => format!(
                    "names are lowercase letters, digits, `_` and `-`, unique in the file, at most {MAX_NAME} characters"
                ),
            };
            w.add(s.line, format!("service `{}` is named `{name}` ({rule}): containers that reached it as `{}` must use `{name}`", s.name, s.name));
        }
        plan.names.push(name);
    }
    let base = app.name.clone().unwrap_or_else(|| project.to_string());
    let mut stack_base = block_name(&base, "app").replace('_', "-");
    truncate(&mut stack_base, MAX_STACK);
    let mut stack_base = stack_base.trim_end_matches('-').to_string();
    // EC2 keeps `sg-` for security group ids, and the stack's name starts its groups'.
    if stack_base == "sg" || stack_base.starts_with("sg-") {
        stack_base.insert_str(0, "app-");
        truncate(&mut stack_base, MAX_STACK);
    }
    plan.stack = if taken.contains(&stack_base) {
        unique(&format!("{stack_base}-app"), &mut taken)
    } else {
        unique(&stack_base, &mut taken)
    };
    plan.env_name = unique(&format!("{}-env", plan.stack), &mut taken);

    for (i, s) in app.services.iter().enumerate() {
        plan.answers.entry(s.name.clone()).or_insert(i);
        plan.answers.entry(plan.names[i].clone()).or_insert(i);
        for a in s.aliases.iter().chain(s.hostname.as_ref().map(|(h, _)| h)) {
            plan.answers.entry(a.clone()).or_insert(i);
        }
    }
    for s in &app.services {
        for (target, alias, _) in &s.links {
            if let (Some(a), Some(&t)) = (alias, plan.answers.get(target)) {
                plan.answers.entry(a.clone()).or_insert(t);
            }
        }
    }
}

/// Cuts `s` to at most `max` bytes, at a character boundary.
pub(super) fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

/// `s` as a block name: lowercase letters, digits, `_` and `-`, starting with a letter.
pub(super) fn block_name(s: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            c
        } else {
            '-'
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        if out.is_empty() && !c.is_ascii_lowercase() {
            continue;
        }
        out.push(c);
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        fallback.to_string()
    } else {
        out
    }
}

/// `base`, or `base-2`, `base-3`, ... the first not taken; marks it taken.
pub(super) fn unique(base: &str, taken: &mut HashSet<String>) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(block_name("My.API", "x"), "my-api");
        assert_eq!(block_name("9lives", "x"), "lives");
        assert_eq!(block_name("__", "x"), "x");
        assert_eq!(block_name("web_1", "x"), "web_1");
        let mut taken = HashSet::from(["web".to_string()]);
        assert_eq!(unique("web", &mut taken), "web-2");
        let mut long = "é".repeat(200);
        truncate(&mut long, 255);
        assert!(long.len() <= 255);
    }
}
