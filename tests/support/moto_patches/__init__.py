"""Small, documented fixes for gaps in moto 5.2.5 that stackc's integration tests hit.

Each submodule patches one service and exposes ``apply()``; ``apply_all()`` must run
before the first request reaches the moto server (backends are created lazily).
"""

from . import ec2, elasticache, elasticbeanstalk, iam, rds


def apply_all() -> None:
    for module in (elasticbeanstalk, elasticache, rds, ec2, iam):
        module.apply()
