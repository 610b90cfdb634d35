//! The environment's load balancer (a lookup): Elastic Beanstalk makes it and names it; the
//! domain's alias record needs its DNS name and its canonical hosted zone, which only Elastic
//! Load Balancing gives (DescribeEnvironmentResources names the load balancer, by its ARN for
//! an Application Load Balancer; DescribeLoadBalancers describes it).

use super::Kind;
use crate::deploy::policy::{Grant, Scope, only_with_steps};
use crate::deploy::resource::{Output, Resource};

crate::desired! {
    /// DescribeEnvironmentResources' `EnvironmentName`.
    pub struct LoadBalancer<S> {
        #[field("EnvironmentName", Ignore("a lookup: read every time, nothing to change"))]
        pub environment: S::Of<String>,
    }
}

/// Its DNS name, in lower case (DNS names are not case-sensitive; Route 53 answers in lower
/// case).
pub const DNS_NAME: Output<LoadBalancer, String> = Output::new("dns_name");
/// The hosted zone of its DNS name, which an alias record names.
pub const HOSTED_ZONE_ID: Output<LoadBalancer, String> = Output::new("hosted_zone_id");

impl Resource for LoadBalancer {
    const ACTIONS: &'static [&'static str] = &[
        "elasticbeanstalk:DescribeEnvironmentResources",
        "elasticloadbalancing:DescribeLoadBalancers",
    ];

    fn grants(_scope: &Scope<'_>, steps: &[&Self]) -> Vec<Grant> {
        only_with_steps(steps, Self::ACTIONS)
    }
    const ACTION: &'static str = "elasticbeanstalk:DescribeEnvironmentResources";
    const USES: &'static [Kind] = &[];
    const LOOKUP: bool = true;
}

#[cfg(feature = "aws")]
pub(crate) use aws::load_balancer;

#[cfg(feature = "aws")]
mod aws {
    use std::sync::Arc;

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, message_has};
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::resources::environment::Environment;
    use crate::deploy::state::{Found, Snapshot};
    use crate::lower::{Plan, Step};

    /// The load balancer of environment `name`: its outputs, or `None` when the environment
    /// does not exist or has none.
    async fn read(ctx: &Ctx, name: &str) -> Result<Option<Outputs>, DeployError> {
        let resource = format!("load balancer of environment {name}");
        let r = match ctx
            .clients
            .eb
            .describe_environment_resources()
            .environment_name(name)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) if message_has(&e, "InvalidParameterValue", &["no environment found"]) => {
                return Ok(None);
            }
            Err(e) => return Err(aws_error(&resource, "DescribeEnvironmentResources", &e)),
        };
        let Some(arn) = r
            .environment_resources()
            .and_then(|res| res.load_balancers().first())
            .and_then(|lb| lb.name())
        else {
            return Ok(None);
        };
        let lbs = ctx
            .clients
            .elbv2
            .describe_load_balancers()
            .load_balancer_arns(arn)
            .send()
            .await
            .map_err(|e| aws_error(&resource, "DescribeLoadBalancers", &e))?;
        let Some(lb) = lbs.load_balancers().first() else {
            return Ok(None);
        };
        let mut out = Outputs::new();
        DNS_NAME.set(
            &mut out,
            lb.dns_name().unwrap_or_default().to_ascii_lowercase(),
        );
        HOSTED_ZONE_ID.set(
            &mut out,
            lb.canonical_hosted_zone_id()
                .unwrap_or_default()
                .to_string(),
        );
        out.insert("id".into(), arn.into());
        Ok(Some(out))
    }

    /// The load balancer of the plan's environment, once per refresh.
    pub(crate) async fn load_balancer(
        ctx: &Ctx,
        reads: &Reads,
        plan: &Plan,
    ) -> Result<Arc<Option<Outputs>>, DeployError> {
        let Some(name) = plan
            .steps
            .iter()
            .find_map(|s| s.desired_as::<Environment>())
            .map(|e| e.name.clone())
        else {
            return Ok(Arc::new(None));
        };
        reads
            .once(
                format!("elasticbeanstalk:DescribeEnvironmentResources {name}"),
                read(ctx, &name),
            )
            .await
    }

    impl Apply for LoadBalancer {
        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            let Some((step, _)) = steps.first() else {
                return Ok(snap);
            };
            if let Some(out) = load_balancer(ctx, reads, plan).await?.as_ref() {
                snap.found.insert(
                    step.id.clone(),
                    Found::lookup(Kind::LoadBalancer, out.clone()),
                );
            }
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &LoadBalancer<Live>,
        ) -> Result<Outputs, DeployError> {
            read(ctx, &want.environment).await?.ok_or_else(|| {
                DeployError::other(
                    step.resource,
                    format!(
                        "environment {} has no load balancer (is it load-balanced?)",
                        want.environment
                    ),
                )
            })
        }

        async fn delete(_ctx: &Ctx, _gone: &Gone<'_>) -> Result<(), DeployError> {
            Ok(())
        }
    }
}
