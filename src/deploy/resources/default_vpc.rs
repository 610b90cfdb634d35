//! The default VPC of the region (a lookup): where stackc deploys.

use super::Kind;
use crate::deploy::resource::{Output, Resource, Stage};

crate::desired! {
    /// The parameters of DescribeVpcs.
    pub struct DefaultVpc<S> {
        #[field("Filters", Ignore("a lookup: read every time, nothing to change"))]
        pub filters: Vec<Filter<S>>,
    }
}

/// An EC2 filter: `{"Name", "Values"}`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Filter<S: Stage> {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Values")]
    pub values: Vec<S::Of<String>>,
}

impl<S: Stage> Filter<S> {
    pub fn new(name: &str, values: Vec<S::Of<String>>) -> Filter<S> {
        Filter {
            name: name.into(),
            values,
        }
    }
}

pub const VPC_ID: Output<DefaultVpc, String> = Output::new("vpc_id");

impl Default for DefaultVpc {
    /// The region's default VPC.
    fn default() -> DefaultVpc {
        DefaultVpc {
            filters: vec![Filter::new("isDefault", vec!["true".to_string().into()])],
        }
    }
}

impl Resource for DefaultVpc {
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeVpcs"];
    const ACTION: &'static str = "ec2:DescribeVpcs";
    const USES: &'static [Kind] = &[];
    const LOOKUP: bool = true;
}

#[cfg(feature = "aws")]
mod aws {
    use aws_sdk_ec2::types::Filter;

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error};
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::state::{Found, Snapshot};

    /// The region's default VPC, read once per refresh.
    pub(crate) async fn default_vpc(ctx: &Ctx, reads: &Reads) -> Result<String, DeployError> {
        let id = reads
            .once("ec2:DescribeVpcs isDefault", async {
                let r = ctx
                    .clients
                    .ec2
                    .describe_vpcs()
                    .filters(Filter::builder().name("isDefault").values("true").build())
                    .send()
                    .await
                    .map_err(|e| aws_error("default VPC", "DescribeVpcs", &e))?;
                Ok(r.vpcs()
                    .first()
                    .and_then(|v| v.vpc_id())
                    .map(str::to_string))
            })
            .await?;
        (*id).clone().ok_or_else(|| {
            DeployError::other(
                "default VPC",
                format!(
                    "region {} has no default VPC; stackc deploys into the default VPC (create one with `aws ec2 create-default-vpc`)",
                    ctx.region
                ),
            )
        })
    }

    impl Apply for DefaultVpc {
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
            let vpc = default_vpc(ctx, reads).await?;
            for (step, _) in steps {
                let mut outputs = Outputs::new();
                VPC_ID.set(&mut outputs, vpc.clone());
                snap.found
                    .insert(step.id.clone(), Found::lookup(Kind::DefaultVpc, outputs));
            }
            Ok(snap)
        }

        async fn create(
            _ctx: &Ctx,
            step: &StepRef<'_>,
            _want: &DefaultVpc<Live>,
        ) -> Result<Outputs, DeployError> {
            // Refresh always reads it: reaching here means refresh found none.
            Err(DeployError::other(step.resource, "not found in the region"))
        }

        async fn delete(_ctx: &Ctx, _gone: &Gone<'_>) -> Result<(), DeployError> {
            Ok(())
        }
    }
}

#[cfg(feature = "aws")]
pub(crate) use aws::default_vpc;
