//! `stack::no_deletion_protection` [warning]: `deletion_protection = false` on a postgres store
//! (CKV_AWS_293).

use super::{Cx, LintError};

pub(super) fn check(cx: &mut Cx<'_>) {
    // A preview's store is deleted with it, by design (`template = true`).
    if cx.model.environment.template {
        return;
    }
    let found: Vec<_> = cx
        .postgres()
        .filter(|(_, p)| !p.deletion_protection)
        .collect();
    for (name, _) in found {
        cx.push(LintError::NoDeletionProtection {
            span: cx.attr_or_name(name, "deletion_protection"),
            store: name.to_string(),
        });
    }
}
