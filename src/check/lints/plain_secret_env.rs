//! `stack::plain_secret_env` [warning]: a postgres password given as `secret("VAR")`, which
//! passes through the deployer's environment and Elastic Beanstalk's environment properties,
//! where `managed` keeps it in Secrets Manager.

use super::{Cx, LintError};
use crate::check::Password;

pub(super) fn check(cx: &mut Cx<'_>) {
    let found: Vec<_> = cx
        .postgres()
        .filter_map(|(n, p)| match &p.password {
            Password::Env(var) => Some((n, var.clone())),
            Password::Managed => None,
        })
        .collect();
    for (name, var) in found {
        cx.push(LintError::PlainSecretEnv {
            span: cx.attr_or_name(name, "password"),
            store: name.to_string(),
            var,
        });
    }
}
