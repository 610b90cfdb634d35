"""The Application Load Balancer of a load-balanced Elastic Beanstalk environment, made in
moto's Elastic Load Balancing (ELBv2), which moto's Elastic Beanstalk never does.

What Elastic Beanstalk does, and its sources:
* "Configuring an Application Load Balancer" (environments-cfg-alb.html) and "General options
  for all environments" (command-options-general.html): an environment with
  ``LoadBalancerType = application`` has an internet-facing Application Load Balancer in the
  VPC's subnets (here the default VPC's), with the security groups of
  ``aws:elbv2:loadbalancer/SecurityGroups``. Its listeners are the default one
  (``aws:elbv2:listener:default``: port 80, HTTP, unless ``ListenerEnabled`` is false) and one
  per enabled ``aws:elbv2:listener:PORT``, with its ``Protocol``, ``SSLCertificateArns`` and
  ``SSLPolicy`` ("None (ELB default)": ELB's default for a listener not made in the console,
  ``ELBSecurityPolicy-2016-08``, "Security policies for your Application Load Balancer"); each
  forwards to the target group of its ``DefaultProcess`` (``aws:elasticbeanstalk:environment:
  process:NAME``, ``Port`` 80 by default).
* "Modifying the resources that Elastic Beanstalk creates for your environment": a
  configuration file of the deployed source bundle (``.ebextensions/*.config``, YAML or JSON,
  "Advanced environment customization with configuration files") may override
  ``AWSEBV2LoadBalancerListener``, the port 80 listener; its ``DefaultActions`` replace the
  listener's (how "Configuring HTTP to HTTPS redirection" redirects port 80).
* A listener with HTTPS needs a certificate Elastic Load Balancing can use: CreateListener
  answers ``CertificateNotFound`` ("The specified certificate does not exist") for an ACM
  certificate that is not issued. Elastic Beanstalk's operation then fails, as its events say;
  the environment's listeners stay as they were. (The event's wording is the emulator's.)
* DescribeEnvironments' ``EndpointURL`` is "the URL to the LoadBalancer" for a load-balanced
  environment, and DescribeEnvironmentResources names the load balancer, by its ARN for an
  Application Load Balancer (as real answers show).
* Terminating the environment deletes its load balancer (its CloudFormation stack goes).
"""

import io
import string
import zipfile
from typing import Any

import yaml
from moto.acm.models import acm_backends
from moto.ec2.models import ec2_backends
from moto.elbv2.models import elbv2_backends
from moto.moto_api._internal import mock_random
from moto.s3.exceptions import MissingBucket, MissingKey
from moto.s3.models import S3Backend

from .ecs_tasks import Failure

ENVIRONMENT_NS = "aws:elasticbeanstalk:environment"
ELB_DEFAULT_POLICY = "ELBSecurityPolicy-2016-08"
PORT_80_LISTENER = "AWSEBV2LoadBalancerListener"


def _suffix(length: int) -> str:
    return "".join(mock_random.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def has_application_load_balancer(env: Any) -> bool:
    kind = (env.setting(ENVIRONMENT_NS, "LoadBalancerType") or "classic").lower()
    return bool(env.load_balanced) and kind == "application"


def _listeners(env: Any) -> list[dict[str, Any]]:
    """The listeners the environment's options ask for: port, protocol, certificate, policy,
    process."""
    ports: dict[str, str] = {}
    for s in env.option_settings:
        ns = s["Namespace"]
        if ns.startswith("aws:elbv2:listener:"):
            ports[ns.rsplit(":", 1)[1]] = ns
    ports.setdefault("default", "aws:elbv2:listener:default")
    found = []
    for key, ns in sorted(ports.items(), key=lambda p: (p[0] != "default", p[0])):
        if (env.setting(ns, "ListenerEnabled") or "true").lower() == "false":
            continue
        port = 80 if key == "default" else int(key)
        certificates = [c.strip() for c in (env.setting(ns, "SSLCertificateArns") or "").split(",") if c.strip()]
        protocol = env.setting(ns, "Protocol") or "HTTP"
        found.append(
            {
                "port": port,
                "protocol": protocol,
                "certificate": certificates[0] if certificates else None,
                "policy": env.setting(ns, "SSLPolicy") or ELB_DEFAULT_POLICY,
                "process": env.setting(ns, "DefaultProcess") or "default",
            }
        )
    return found


def _unusable_certificate(env: Any, listener: dict[str, Any]) -> str | None:
    """Why ELB would refuse the listener's certificate, or None."""
    if listener["protocol"] != "HTTPS":
        return None
    arn = listener["certificate"]
    if not arn:
        return f"A certificate must be specified for HTTPS listener on port {listener['port']}"
    cert = acm_backends[env._account_id][env.region]._certificates.get(arn)
    if cert is not None:
        cert.check()
        if cert.status == "ISSUED":
            return None
    return f"Certificate '{arn}' not found"


def _port_80_actions(s3: S3Backend, bundle: dict[str, str] | None) -> list[dict[str, Any]] | None:
    """The DefaultActions an `.ebextensions` file of the bundle gives the port 80 listener."""
    if not bundle:
        return None
    try:
        body = s3.get_object(bundle["S3Bucket"], bundle["S3Key"]).value  # type: ignore[union-attr]
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            names = sorted(n for n in z.namelist() if n.startswith(".ebextensions/") and n.endswith(".config"))
            documents = [yaml.safe_load(z.read(n)) for n in names]
    except (AttributeError, KeyError, ValueError, yaml.YAMLError, zipfile.BadZipFile, MissingBucket, MissingKey):
        return None
    actions = None
    for doc in documents:
        resource = ((doc or {}).get("Resources") or {}).get(PORT_80_LISTENER) or {}
        actions = (resource.get("Properties") or {}).get("DefaultActions", actions)
    return actions


def _target_group(env: Any, elbv2: Any, lb: Any, process: str) -> str:
    groups = env._stackc_target_groups
    if process not in groups:
        ns = f"aws:elasticbeanstalk:environment:process:{process}"
        port = int(env.setting(ns, "Port") or 80)
        name = f"awseb-AWSEB-{_suffix(12)}"
        tg = elbv2.create_target_group(
            name,
            protocol=env.setting(ns, "Protocol") or "HTTP",
            port=port,
            vpc_id=lb.vpc_id,
            target_type="instance",
        )
        groups[process] = tg.arn
    return groups[process]


def sync(env: Any, s3: S3Backend, bundle: dict[str, str] | None) -> list[Failure]:
    """Makes the load balancer match the environment's options and deployed bundle, when an
    operation settles; the failures that stop it."""
    if not has_application_load_balancer(env):
        remove(env)
        return []
    wanted = _listeners(env)
    problems = [p for p in (_unusable_certificate(env, w) for w in wanted) if p]
    if problems:
        return [
            Failure(
                f"Creating Load Balancer listener failed Reason: {problems[0]} (Service: ElasticLoadBalancingV2, "
                "Status Code: 400, Error Code: CertificateNotFound)",
                ecs=False,
            )
        ]
    elbv2 = elbv2_backends[env._account_id][env.region]
    lb = elbv2.load_balancers.get(getattr(env, "_stackc_load_balancer", None) or "")
    if lb is None:
        ec2 = ec2_backends[env._account_id][env.region]
        vpc = ec2.get_default_vpc()
        subnets = [s.id for s in ec2.describe_subnets(filters={"vpc-id": [vpc.id]})] if vpc else []
        groups = [g.strip() for g in (env.setting("aws:elbv2:loadbalancer", "SecurityGroups") or "").split(",") if g]
        lb = elbv2.create_load_balancer(
            name=f"awseb-AWSEB-{_suffix(12)}",
            security_groups=groups,
            subnet_ids=subnets,
            scheme="internet-facing",
            loadbalancer_type="application",
        )
        env._stackc_load_balancer = lb.arn
        env._stackc_target_groups = {}
    env.endpoint_url = lb.dns_name
    override = _port_80_actions(s3, bundle)
    for arn in list(lb.listeners):
        elbv2.delete_listener(arn)
    for w in wanted:
        actions = [{"Type": "forward", "TargetGroupArn": _target_group(env, elbv2, lb, w["process"])}]
        if w["port"] == 80 and override:
            actions = override
        elbv2.create_listener(
            load_balancer_arn=lb.arn,
            protocol=w["protocol"],
            port=w["port"],
            ssl_policy=w["policy"] if w["protocol"] == "HTTPS" else None,
            certificate=w["certificate"] if w["protocol"] == "HTTPS" else None,
            actions=actions,
        )
    return []


def remove(env: Any) -> None:
    """Deletes the environment's load balancer and its target groups."""
    arn = getattr(env, "_stackc_load_balancer", None)
    if not arn:
        return
    elbv2 = elbv2_backends[env._account_id][env.region]
    lb = elbv2.load_balancers.get(arn)
    if lb is not None:
        for listener in list(lb.listeners):
            elbv2.delete_listener(listener)
        elbv2.delete_load_balancer(arn)
    for tg in env._stackc_target_groups.values():
        elbv2.target_groups.pop(tg, None)
    env._stackc_load_balancer = None
    env._stackc_target_groups = {}


def resources(env: Any) -> dict[str, Any]:
    """DescribeEnvironmentResources' EnvironmentResources."""
    arn = getattr(env, "_stackc_load_balancer", None)
    return {
        "EnvironmentName": env.environment_name,
        "AutoScalingGroups": [{"Name": f"awseb-{env.environment_id}-stack-AWSEBAutoScalingGroup"}],
        "Instances": [{"Id": i["InstanceId"]} for i in env.instances],
        "LaunchConfigurations": [],
        "LaunchTemplates": [],
        "LoadBalancers": [{"Name": arn}] if arn else [],
        "Triggers": [],
        "Queues": [],
    }
