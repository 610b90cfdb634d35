//! `stack::unencrypted` [warning]: `encrypted = false` on a postgres store (CKV_AWS_16); with
//! `--strict` also a redis store without encryption (CKV_AWS_29/30), which is redis's default
//! because the usual Redis clients do not speak TLS.

use super::{Cx, LintError};

pub(super) fn check(cx: &mut Cx<'_>) {
    let postgres: Vec<_> = cx.postgres().filter(|(_, p)| !p.encrypted).collect();
    for (name, _) in postgres {
        cx.push(LintError::Unencrypted {
            span: cx.attr_or_name(name, "encrypted"),
            kind: "postgres",
            store: name.to_string(),
            label: "storage and snapshots are kept in clear".into(),
            help: "remove `encrypted = false` (the default is `true`): RDS encrypts storage, \
                   backups and snapshots with KMS at no extra cost"
                .into(),
        });
    }
    if !cx.options.strict {
        return;
    }
    let redis: Vec<_> = cx.redis().filter(|(_, r)| !r.encrypted).collect();
    for (name, _) in redis {
        let written = cx.attr(name, "encrypted").is_some();
        cx.push(LintError::Unencrypted {
            span: cx.attr_or_name(name, "encrypted"),
            kind: "redis",
            store: name.to_string(),
            label: if written {
                "traffic and data are kept in clear".into()
            } else {
                "not encrypted in transit nor at rest (the default for redis)".into()
            },
            help: format!(
                "write `encrypted = true` in redis `{name}`, and connect with a TLS-capable client \
                 (e.g. `REDIS_TLS = \"true\"` in the services that read it)"
            ),
        });
    }
}
