//! `stack::public_database` [error]: `public = true` on a postgres store (CKV_AWS_17, AWS-0180).

use super::{Cx, LintError};

pub(super) fn check(cx: &mut Cx<'_>) {
    let found: Vec<_> = cx.postgres().filter(|(_, p)| p.public).collect();
    for (name, _) in found {
        cx.push(LintError::PublicDatabase {
            span: cx.attr_or_name(name, "public"),
            store: name.to_string(),
        });
    }
}
