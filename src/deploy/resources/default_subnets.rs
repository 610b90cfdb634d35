//! The default subnets of the default VPC (a lookup): where the data stores' subnet groups go.

use super::Kind;
use super::default_vpc::Filter;
use crate::deploy::resource::{Output, Resource, Val};

crate::desired! {
    /// The parameters of DescribeSubnets.
    pub struct DefaultSubnets<S> {
        #[field("Filters", Ignore("a lookup: read every time, nothing to change"))]
        pub filters: Vec<Filter<S>>,
    }
}

pub const SUBNET_IDS: Output<DefaultSubnets, Vec<String>> = Output::new("subnet_ids");

impl DefaultSubnets {
    /// The default subnets of the VPC `vpc_id`.
    pub fn of_vpc(vpc_id: Val<String>) -> DefaultSubnets {
        DefaultSubnets {
            filters: vec![
                Filter::new("vpc-id", vec![vpc_id]),
                Filter::new("default-for-az", vec!["true".to_string().into()]),
            ],
        }
    }
}

impl Resource for DefaultSubnets {
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeSubnets"];
    const ACTION: &'static str = "ec2:DescribeSubnets";
    const USES: &'static [Kind] = &[Kind::DefaultVpc];
    const LOOKUP: bool = true;
}

#[cfg(feature = "aws")]
mod aws {
    use aws_sdk_ec2::types::Filter;

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error};
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::resources::default_vpc::default_vpc;
    use crate::deploy::state::{Found, Snapshot};

    impl Apply for DefaultSubnets {
        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            _plan: &crate::lower::Plan,
            steps: &[(&crate::lower::Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            if steps.is_empty() {
                return Ok(snap);
            }
            // At the same time as the VPC: the answer is narrowed to it afterwards.
            let subnets = async {
                ctx.clients
                    .ec2
                    .describe_subnets()
                    .filters(
                        Filter::builder()
                            .name("default-for-az")
                            .values("true")
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| aws_error("default subnets", "DescribeSubnets", &e))
            };
            let (vpc, subnets) = tokio::join!(default_vpc(ctx, reads), subnets);
            let (vpc, subnets) = (vpc?, subnets?);
            let mut ids: Vec<String> = subnets
                .subnets()
                .iter()
                .filter(|s| s.vpc_id() == Some(vpc.as_str()))
                .filter_map(|s| s.subnet_id().map(str::to_string))
                .collect();
            ids.sort();
            for (step, _) in steps {
                let mut outputs = Outputs::new();
                SUBNET_IDS.set(&mut outputs, ids.clone());
                snap.found.insert(
                    step.id.clone(),
                    Found::lookup(Kind::DefaultSubnets, outputs),
                );
            }
            Ok(snap)
        }

        async fn create(
            _ctx: &Ctx,
            step: &StepRef<'_>,
            _want: &DefaultSubnets<Live>,
        ) -> Result<Outputs, DeployError> {
            Err(DeployError::other(step.resource, "not found in the region"))
        }

        async fn delete(_ctx: &Ctx, _gone: &Gone<'_>) -> Result<(), DeployError> {
            Ok(())
        }
    }
}
