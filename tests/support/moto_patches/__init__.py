"""Small, documented fixes for gaps in moto 5.2.5 that stackc's integration tests hit.

Each service module patches one service and exposes ``apply()``; ``apply_all()`` must run
before the first request reaches the moto server (backends are created lazily). The other
modules hold what those patches share: ``eb_options`` (Elastic Beanstalk's option
catalogue), ``eb_health`` (its events and health causes), ``ecs_tasks`` (whether an ECS
task would start), ``eb_load_balancer`` (an environment's Application Load Balancer).
"""

import warnings

from . import acm, ec2, ecr, elasticache, elasticbeanstalk, iam, logs, rds, secretsmanager


def apply_all() -> None:
    # Errors AWS answers with codes botocore's models do not list (e.g. Elastic Beanstalk's
    # ConfigurationValidationException) are still serialized right; moto only warns.
    warnings.filterwarnings("ignore", message=r"Exception\(.*\) with code .* does not match an error shape")
    for module in (elasticbeanstalk, elasticache, rds, ec2, iam, secretsmanager, logs, acm, ecr):
        module.apply()
