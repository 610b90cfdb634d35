//! The environment properties that need a store's endpoint or managed password: set on the
//! environment in a step of their own, so that the environment (minutes to create) and the
//! stores (minutes too) are created at the same time. When the stores are ready before the
//! environment is created, the executor folds this step into the creation call (see
//! [`Resource::FOLDS_INTO`]).

use super::Kind;
use super::environment::OptionSetting;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{OptionRules, Resource};

/// Only the listed options are compared: the environment's step prunes properties.
pub const OPTIONS: OptionRules = OptionRules {
    prune: None,
    replace: &[],
    normalize: super::environment::normalize_option,
};

crate::desired! {
    /// The parameters of UpdateEnvironment.
    pub struct EnvironmentProperties<S> {
        #[field("EnvironmentName", Identity)]
        pub environment: S::Of<String>,
        #[field("OptionSettings", Options(OPTIONS))]
        pub options: Vec<OptionSetting<S>>,
    }
}

impl Resource for EnvironmentProperties {
    const ACTIONS: &'static [&'static str] = &[
        "elasticbeanstalk:UpdateEnvironment",
        "elasticbeanstalk:DescribeEnvironments",
        "elasticbeanstalk:DescribeConfigurationSettings",
        "elasticbeanstalk:DescribeEvents",
        "elasticbeanstalk:DescribeEnvironmentHealth",
        "elasticbeanstalk:DescribeInstancesHealth",
    ];

    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        super::environment::environment_grants(scope, Self::ACTIONS)
    }
    const ACTION: &'static str = "elasticbeanstalk:UpdateEnvironment";
    const USES: &'static [Kind] = &[
        Kind::Environment,
        Kind::DbInstance,
        Kind::CacheCluster,
        Kind::ReplicationGroup,
        Kind::RolePolicy,
    ];
    const FOLDS_INTO: Option<(Kind, &'static str)> = Some((Kind::Environment, "OptionSettings"));
}

#[cfg(feature = "aws")]
mod aws {
    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef};
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::resources::environment::{
        environment_outputs, environment_state, set_options, wait_ready_by_name,
    };
    use crate::deploy::state::{Found, Snapshot};
    use crate::lower::{Plan, Step};

    impl Apply for EnvironmentProperties {
        const UPDATES: &'static [&'static str] = &["OptionSettings"];

        /// The environment's settings, as its own step reads them.
        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            if steps.is_empty() {
                return Ok(snap);
            }
            let Some((state, true)) = environment_state(ctx, reads, plan).await? else {
                return Ok(snap);
            };
            let Some((env, settings)) = &state.ours else {
                return Ok(snap);
            };
            let name = env.environment_name().unwrap_or_default().to_string();
            for (step, _) in steps {
                let current = EnvironmentProperties::<Live> {
                    environment: name.clone(),
                    options: settings.clone(),
                };
                let outputs = environment_outputs(env);
                let status = env
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                let settled = status == "Ready";
                snap.found.insert(
                    step.id.clone(),
                    Found::new(Kind::EnvironmentProperties, &current, outputs)
                        .with_status(status, settled),
                );
            }
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &EnvironmentProperties<Live>,
        ) -> Result<Outputs, DeployError> {
            set_options(
                ctx,
                step,
                &want.environment,
                want.options.iter().collect(),
                Vec::new(),
            )
            .await
        }

        async fn update(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &EnvironmentProperties<Live>,
            _found: &Found,
            changes: &[FieldChange],
        ) -> Result<Outputs, DeployError> {
            let set: Vec<&OptionSetting<Live>> = want
                .options
                .iter()
                .filter(|o| changes.iter().any(|c| c.field == o.key()))
                .collect();
            if set.is_empty() {
                return wait_ready_by_name(ctx, step, &want.environment).await;
            }
            set_options(ctx, step, &want.environment, set, Vec::new()).await
        }

        /// An apply interrupted while the environment was busy: wait for it.
        async fn settle(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &EnvironmentProperties<Live>,
            _found: &Found,
        ) -> Result<Outputs, DeployError> {
            wait_ready_by_name(ctx, step, &want.environment).await
        }

        /// The properties go with the environment.
        async fn delete(_ctx: &Ctx, _gone: &Gone<'_>) -> Result<(), DeployError> {
            Ok(())
        }
    }
}
