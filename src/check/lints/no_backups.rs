//! `stack::no_backups` [warning]: `backup_days = 0` on a postgres store (CKV_AWS_133).

use super::{Cx, LintError};

pub(super) fn check(cx: &mut Cx<'_>) {
    let found: Vec<_> = cx.postgres().filter(|(_, p)| p.backup_days == 0).collect();
    for (name, _) in found {
        cx.push(LintError::NoBackups {
            span: cx.attr_or_name(name, "backup_days"),
            store: name.to_string(),
        });
    }
}
