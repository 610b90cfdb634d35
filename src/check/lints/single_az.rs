//! `stack::single_az` [warning, `--strict` only]: a production-looking environment (its name
//! contains `prod`) whose postgres stores run in a single availability zone.

use super::{Cx, LintError};

pub(super) fn check(cx: &mut Cx<'_>) {
    let environment = cx.model.environment.name.clone();
    if !cx.options.strict || !environment.contains("prod") {
        return;
    }
    let found: Vec<_> = cx.postgres().filter(|(_, p)| !p.multi_az).collect();
    for (name, _) in found {
        let written = cx.attr(name, "multi_az").is_some();
        cx.push(LintError::SingleAz {
            span: cx.attr_or_name(name, "multi_az"),
            store: name.to_string(),
            environment: environment.clone(),
            label: if written {
                "one zone: an outage of that zone stops the database".into()
            } else {
                "one zone by default (`multi_az = false`)".into()
            },
        });
    }
}
