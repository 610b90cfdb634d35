"""IAM: fills a moto 5.2.5 gap.

AttachRolePolicy with an AWS managed policy (arn:aws:iam::aws:policy/...) answers
NoSuchEntity because moto only loads its copy of the AWS managed policies when asked to.
Loading them keeps AWS's paths, so e.g. AWSElasticBeanstalkEnhancedHealth is only found
at arn:aws:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth, as on AWS.
"""

import os


def apply() -> None:
    # Read by moto when an account's IAM backend is first created.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
