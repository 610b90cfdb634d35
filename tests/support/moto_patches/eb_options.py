"""Elastic Beanstalk configuration options: which exist, AWS's defaults, and AWS's answer.

Data and pure functions used by ``elasticbeanstalk.py``; nothing here touches moto.

The catalogue follows AWS's "General options for all environments"
(https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/command-options-general.html) and
"Platform specific options" (command-options-specific.html: the Docker platform's
``aws:elasticbeanstalk:environment:proxy`` namespace, which "do[es] not apply to the
Multicontainer Docker platform", i.e. not to the ECS platform). A default of ``None`` is the
documentation's "None": the option has no value, and DescribeConfigurationSettings lists it
without one. Defaults the documentation calls "varies by account and Region" are the ones
a new account in us-east-1 gets (said where they appear).

Not modelled: ``aws:elasticbeanstalk:windows:activedirectory`` (Windows platforms only:
"Earlier platform versions reject these options during validation"), the legacy
``aws:elasticbeanstalk:container:*`` namespaces, ``aws:elasticbeanstalk:customoption``,
and the internal ``aws:elasticbeanstalk:control`` / ``aws:cloudformation:template:parameter``
settings AWS also lists; value validation (only names are checked).
"""

import re
from dataclasses import dataclass
from typing import Any

ENV_PROPERTIES = "aws:elasticbeanstalk:application:environment"
ENV_SECRETS = "aws:elasticbeanstalk:application:environmentsecrets"
SCHEDULED_ACTION = "aws:autoscaling:scheduledaction"

# Namespaces whose option names are the user's (environment variables, static paths).
FREE_FORM = {ENV_PROPERTIES, ENV_SECRETS, "aws:elasticbeanstalk:environment:proxy:staticfiles"}

GENERAL: dict[str, dict[str, str | None]] = {
    "aws:autoscaling:asg": {
        "Availability Zones": "Any",
        "Cooldown": "360",
        "Custom Availability Zones": "",
        "EnableCapacityRebalancing": "false",
        "MaxSize": "4",
        "MinSize": "1",
    },
    "aws:autoscaling:launchconfiguration": {
        "BlockDeviceMappings": None,
        "DisableDefaultEC2SecurityGroup": "false",
        # "true – platforms based on Amazon Linux 2023" (every platform this emulator offers).
        "DisableIMDSv1": "true",
        "EC2KeyName": None,
        "IamInstanceProfile": None,
        "ImageId": None,
        # "Varies by account and Region": what InstanceTypes' first entry says; see instance_types().
        "InstanceType": None,
        "LaunchTemplateTagPropagationEnabled": "false",
        "MonitoringInterval": "5 minute",
        "RootVolumeIOPS": None,
        "RootVolumeSize": None,
        "RootVolumeThroughput": None,
        "RootVolumeType": None,
        "SSHSourceRestriction": None,
        "SecurityGroups": None,
    },
    SCHEDULED_ACTION: {
        "DesiredCapacity": None,
        "EndTime": None,
        "MaxSize": None,
        "MinSize": None,
        "Recurrence": None,
        "StartTime": None,
        "Suspend": "false",
    },
    "aws:autoscaling:trigger": {
        "BreachDuration": "5",
        "EvaluationPeriods": "1",
        "LowerBreachScaleIncrement": "-1",
        "LowerThreshold": "2000000",
        "MeasureName": "NetworkOut",
        "Period": "5",
        "Statistic": "Average",
        "Unit": "Bytes",
        "UpperBreachScaleIncrement": "1",
        "UpperThreshold": "6000000",
    },
    "aws:autoscaling:updatepolicy:rollingupdate": {
        "MaxBatchSize": None,
        "MinInstancesInService": None,
        "PauseTime": None,
        "RollingUpdateEnabled": "false",
        "RollingUpdateType": "Time",
        "Timeout": "PT30M",
    },
    "aws:ec2:instances": {
        "EnableSpot": "false",
        "InstanceTypes": None,  # see instance_types()
        "SpotAllocationStrategy": "capacity-optimized",
        "SpotFleetOnDemandAboveBasePercentage": None,  # "0 for a single-instance environment, 70 ..."
        "SpotFleetOnDemandBase": "0",
        "SpotMaxPrice": None,
        "SupportedArchitectures": None,
    },
    "aws:ec2:vpc": {
        "AssociatePublicIpAddress": None,
        "DBSubnets": None,
        "ELBScheme": "public",
        "ELBSubnets": None,
        "Subnets": None,
        "VPCId": None,
    },
    "aws:elasticbeanstalk:application": {"Application Healthcheck URL": ""},
    "aws:elasticbeanstalk:cloudwatch:logs": {
        "DeleteOnTerminate": "false",
        "RetentionInDays": "7",
        "StreamLogs": "false",
    },
    "aws:elasticbeanstalk:cloudwatch:logs:health": {
        "DeleteOnTerminate": "false",
        "HealthStreamingEnabled": "false",
        "RetentionInDays": "7",
    },
    "aws:elasticbeanstalk:command": {
        "BatchSize": "100",
        "BatchSizeType": "Percentage",
        "DeploymentPolicy": "AllAtOnce",
        "IgnoreHealthCheck": "false",
        "Timeout": "600",
    },
    "aws:elasticbeanstalk:environment": {
        "EnvironmentType": "LoadBalanced",
        "LoadBalancerIsShared": "false",
        "LoadBalancerType": "classic",
        "ServiceRole": None,
    },
    "aws:elasticbeanstalk:healthreporting:system": {
        "ConfigDocument": None,
        "EnhancedHealthAuthEnabled": "true",
        "HealthCheckSuccessThreshold": "Ok",
        "SystemType": "basic",
    },
    "aws:elasticbeanstalk:hostmanager": {"LogPublicationControl": "false"},
    "aws:elasticbeanstalk:managedactions": {
        "ManagedActionsEnabled": "false",
        "PreferredStartTime": None,
        "ServiceRoleForManagedUpdates": None,
    },
    "aws:elasticbeanstalk:managedactions:platformupdate": {
        "InstanceRefreshEnabled": "false",
        "UpdateLevel": None,
    },
    "aws:elasticbeanstalk:monitoring": {"Automatically Terminate Unhealthy Instances": "true"},
    "aws:elasticbeanstalk:sns:topics": {
        "Notification Endpoint": None,
        "Notification Protocol": "email",
        "Notification Topic ARN": None,
        "Notification Topic Name": None,
    },
    "aws:elasticbeanstalk:sqsd": {
        "ConnectTimeout": "5",
        "ErrorVisibilityTimeout": "2",
        "HttpConnections": "50",
        "HttpPath": "/",
        "InactivityTimeout": "299",
        "MaxRetries": "10",
        "MimeType": "application/json",
        "RetentionPeriod": "345600",
        "VisibilityTimeout": "300",
        "WorkerQueueURL": None,
    },
    "aws:elasticbeanstalk:trafficsplitting": {"EvaluationTime": "5", "NewVersionPercent": "10"},
    "aws:elasticbeanstalk:xray": {"XRayEnabled": "false"},
    "aws:elb:healthcheck": {
        "HealthyThreshold": "3",
        "Interval": "10",
        "Target": "TCP:80",
        "Timeout": "5",
        "UnhealthyThreshold": "5",
    },
    "aws:elb:loadbalancer": {
        "CrossZone": "false",
        "LoadBalancerHTTPPort": "80",
        "LoadBalancerHTTPSPort": "OFF",
        "LoadBalancerPortProtocol": "HTTP",
        "LoadBalancerSSLPortProtocol": "HTTPS",
        "ManagedSecurityGroup": None,
        "SSLCertificateId": None,
        "SecurityGroups": None,
    },
    "aws:elb:listener": {
        "InstancePort": "80",
        "InstanceProtocol": "HTTP",
        "ListenerEnabled": "true",
        "ListenerProtocol": "HTTP",
        "PolicyNames": None,
    },
    "aws:elb:policies": {
        "ConnectionDrainingEnabled": "false",
        "ConnectionDrainingTimeout": "20",
        "ConnectionSettingIdleTimeout": "60",
        "LoadBalancerPorts": None,
        "Stickiness Cookie Expiration": "0",
        "Stickiness Policy": "false",
    },
    "aws:elbv2:loadbalancer": {
        "AccessLogsS3Bucket": None,
        "AccessLogsS3Enabled": "false",
        "AccessLogsS3Prefix": None,
        "IdleTimeout": None,
        "IpAddressType": "ipv4",
        "ManagedSecurityGroup": None,
        "SecurityGroups": None,
        "SharedLoadBalancer": None,
    },
    "aws:rds:dbinstance": {
        "DBAllocatedStorage": None,
        "DBDeletionPolicy": "Delete",
        "DBEngine": "mysql",
        "DBEngineVersion": None,
        "DBInstanceClass": None,
        "DBPassword": None,
        "DBSnapshotIdentifier": None,
        "DBUser": "ebroot",
        "HasCoupledDatabase": "false",
        "MultiAZDatabase": "false",
    },
}

# "aws:elasticbeanstalk:environment:process:default" and ":process_name" share one table.
PROCESS: dict[str, str | None] = {
    "DeregistrationDelay": "20",
    "HealthCheckInterval": "15",  # "With network load balancer: 30"
    "HealthCheckPath": "/",
    "HealthCheckTimeout": "5",
    "HealthyThresholdCount": "3",  # "With network load balancer: 5"
    "MatcherHTTPCode": "200",
    "Port": "80",
    "Protocol": "HTTP",  # "With network load balancer: TCP"
    "StickinessEnabled": "false",
    "StickinessLBCookieDuration": "86400",
    "StickinessType": "lb_cookie",
    "UnhealthyThresholdCount": "5",
}

# "aws:elbv2:listener:default" and ":listener_port".
ELBV2_LISTENER: dict[str, str | None] = {
    "DefaultProcess": "default",
    "ListenerEnabled": "true",
    "Protocol": "HTTP",  # "With network load balancer: TCP"
    "Rules": None,
    "SSLCertificateArns": None,
    "SSLPolicy": None,
}

ELBV2_RULE: dict[str, str | None] = {
    "HostHeaders": None,
    "PathPatterns": None,
    "Priority": "1",
    "Process": "default",
}

ELB_LISTENER_PORT: dict[str, str | None] = {
    "InstancePort": None,  # "The same as listener_port"
    "InstanceProtocol": None,
    "ListenerEnabled": None,
    "ListenerProtocol": "HTTP",
    "PolicyNames": None,
    "SSLCertificateId": None,
}

ELB_POLICY: dict[str, str | None] = {
    "CookieName": None,
    "InstancePorts": None,
    "LoadBalancerPorts": None,
    "ProxyProtocol": None,
    "PublicKey": None,
    "PublicKeyPolicyNames": None,
    "SSLProtocols": None,
    "SSLReferencePolicy": None,
    "Stickiness Cookie Expiration": "0",
    "Stickiness Policy": "false",
}

DYNAMIC: list[tuple[re.Pattern[str], dict[str, str | None]]] = [
    (re.compile(r"aws:elasticbeanstalk:environment:process:[^:]+"), PROCESS),
    (re.compile(r"aws:elbv2:listener:(default|\d+)"), ELBV2_LISTENER),
    (re.compile(r"aws:elbv2:listenerrule:[^:]+"), ELBV2_RULE),
    (re.compile(r"aws:elb:listener:\d+"), ELB_LISTENER_PORT),
    (re.compile(r"aws:elb:policies:[^:]+"), ELB_POLICY),
]

# Docker (not ECS) platform only: "Platform specific options", Docker platform options.
DOCKER_ONLY: dict[str, dict[str, str | None]] = {"aws:elasticbeanstalk:environment:proxy": {"ProxyServer": "nginx"}}

# The resource an option configures, as AWS names it in DescribeConfigurationSettings
# (from a real answer, see full_settings()); options left out have none.
RESOURCE_NAMES = {
    "aws:autoscaling:asg": "AWSEBAutoScalingGroup",
    "aws:autoscaling:launchconfiguration": "AWSEBAutoScalingLaunchConfiguration",
    "aws:autoscaling:updatepolicy:rollingupdate": "AWSEBAutoScalingGroup",
    "aws:elb:healthcheck": "AWSEBLoadBalancer",
    "aws:elb:loadbalancer": "AWSEBLoadBalancer",
    "aws:elb:policies": "AWSEBLoadBalancer",
    ("aws:autoscaling:launchconfiguration", "InstanceType"): None,
    ("aws:autoscaling:launchconfiguration", "SSHSourceRestriction"): None,
    ("aws:autoscaling:trigger", "LowerBreachScaleIncrement"): "AWSEBAutoScalingScaleDownPolicy",
    ("aws:autoscaling:trigger", "UpperBreachScaleIncrement"): "AWSEBAutoScalingScaleUpPolicy",
    ("aws:autoscaling:trigger", "UpperThreshold"): "AWSEBCloudwatchAlarmHigh",
    "aws:autoscaling:trigger": "AWSEBCloudwatchAlarmLow",
    ("aws:ec2:vpc", "AssociatePublicIpAddress"): "AWSEBAutoScalingLaunchConfiguration",
    ("aws:ec2:vpc", "ELBScheme"): "AWSEBLoadBalancer",
    ("aws:ec2:vpc", "ELBSubnets"): "AWSEBLoadBalancer",
    ("aws:ec2:vpc", "Subnets"): "AWSEBAutoScalingGroup",
    ("aws:ec2:vpc", "VPCId"): "AWSEBSecurityGroup",
}


def namespace_options(namespace: str, docker_platform: bool) -> dict[str, str | None] | None:
    """The options a namespace has, or None when AWS does not know the namespace."""
    if namespace in GENERAL:
        return GENERAL[namespace]
    if docker_platform and namespace in DOCKER_ONLY:
        return DOCKER_ONLY[namespace]
    for pattern, options in DYNAMIC:
        if pattern.fullmatch(namespace):
            return options
    return None


def unknown_settings(settings: list[dict[str, Any]], docker_platform: bool) -> list[dict[str, Any]]:
    """The settings AWS rejects as "Unknown configuration setting", in request order."""
    unknown = []
    for setting in settings:
        namespace, name = setting.get("Namespace", ""), setting.get("OptionName", "")
        if namespace in FREE_FORM:
            continue
        options = namespace_options(namespace, docker_platform)
        if options is None or name not in options:
            unknown.append(setting)
    return unknown


def unknown_setting_message(setting: dict[str, Any]) -> str:
    # AWS's wording, e.g. "Invalid option specification (Namespace: 'aws:elb:loadbalancer',
    # OptionName: 'LoadBalancerType'): Unknown configuration setting." (seen in real
    # CreateEnvironment answers: pulumi/pulumi-aws#3461, aws/aws-elastic-beanstalk-cli#532).
    return (
        f"Invalid option specification (Namespace: '{setting.get('Namespace', '')}', "
        f"OptionName: '{setting.get('OptionName', '')}'): Unknown configuration setting."
    )


def setting_key(setting: dict[str, Any]) -> tuple[str | None, str, str]:
    """What identifies a setting: ResourceName only names a scheduled action."""
    resource = setting.get("ResourceName") if setting["Namespace"] == SCHEDULED_ACTION else None
    return (resource, setting["Namespace"], setting["OptionName"])


@dataclass
class Context:
    """What AWS's defaults depend on."""

    account_id: str
    partition: str
    environment_id: str
    docker_platform: bool
    worker_tier: bool


def full_settings(user: list[dict[str, Any]], ctx: Context) -> list[dict[str, Any]]:
    """DescribeConfigurationSettings' OptionSettings: every option that applies, with AWS's
    defaults, the client's values overlaid in AWS's forms, sorted by namespace and name.

    The shape (ResourceName, options without a value, "" for some, sorted) follows a real
    answer (AWS CLI `describe-configuration-settings`, 2016, Go platform), which also lists
    only the namespaces of the environment's own resources (no load balancer options on a
    single-instance environment, ``aws:elb:*`` for a classic load balancer only).
    """
    values = {setting_key(s): s.get("Value") for s in user}

    def value(namespace: str, name: str) -> str | None:
        return values.get((None, namespace, name))

    env_type = value("aws:elasticbeanstalk:environment", "EnvironmentType") or "LoadBalanced"
    lb_type = (value("aws:elasticbeanstalk:environment", "LoadBalancerType") or "classic").lower()
    load_balanced = env_type == "LoadBalanced" and not ctx.worker_tier
    defaults: dict[tuple[str | None, str, str], str | None] = {}
    for namespace in _namespaces(load_balanced, lb_type, ctx, {key[1] for key in values}):
        for name, default in (namespace_options(namespace, ctx.docker_platform) or {}).items():
            if namespace != SCHEDULED_ACTION:
                defaults[(None, namespace, name)] = default
    defaults.update(_context_defaults(env_type, lb_type, load_balanced))
    merged = defaults | {key: _aws_form(key, v, ctx) for key, v in values.items()}
    merged.update(_instance_types(values))
    merged.update(_security_groups(values, ctx))
    return [
        _option(key, merged[key])
        for key in sorted(merged, key=lambda k: (k[1], k[2], k[0] or ""))
        if key[1] != SCHEDULED_ACTION or key[0]
    ]


def _namespaces(load_balanced: bool, lb_type: str, ctx: Context, used: set[str]) -> list[str]:
    balancer = {
        "classic": ["aws:elb:healthcheck", "aws:elb:listener", "aws:elb:loadbalancer", "aws:elb:policies"],
        "application": [
            "aws:elbv2:listener:default",
            "aws:elbv2:loadbalancer",
            "aws:elasticbeanstalk:environment:process:default",
        ],
        "network": ["aws:elbv2:listener:default", "aws:elasticbeanstalk:environment:process:default"],
    }
    optional = {
        "aws:elasticbeanstalk:sqsd",
        "aws:elasticbeanstalk:trafficsplitting",
        "aws:rds:dbinstance",
        SCHEDULED_ACTION,
        *(ns for group in balancer.values() for ns in group),
    }
    namespaces = [ns for ns in GENERAL if ns not in optional]
    if load_balanced:
        namespaces += balancer.get(lb_type, [])
    if ctx.worker_tier:
        namespaces.append("aws:elasticbeanstalk:sqsd")
    if ctx.docker_platform:
        namespaces += list(DOCKER_ONLY)
    # A namespace the client used (a process, a listener, traffic splitting...) is listed whole.
    return namespaces + sorted(ns for ns in used if ns not in namespaces and ns not in FREE_FORM)


def _context_defaults(env_type: str, lb_type: str, load_balanced: bool) -> dict[tuple[str | None, str, str], str]:
    defaults: dict[tuple[str | None, str, str], str] = {
        # "0 for a single-instance environment, 70 for a load-balanced environment".
        (None, "aws:ec2:instances", "SpotFleetOnDemandAboveBasePercentage"): "70" if load_balanced else "0",
    }
    if env_type == "SingleInstance":
        # "Set to SingleInstance to launch one EC2 instance with no load balancer."
        defaults[(None, "aws:autoscaling:asg", "MaxSize")] = "1"
    if lb_type == "network":
        # Process and listener defaults "With network load balancer".
        for process_option, nlb in (("HealthCheckInterval", "30"), ("HealthyThresholdCount", "5"), ("Protocol", "TCP")):
            defaults[(None, "aws:elasticbeanstalk:environment:process:default", process_option)] = nlb
        defaults[(None, "aws:elbv2:listener:default", "Protocol")] = "TCP"
    return defaults


def _aws_form(key: tuple[str | None, str, str], value: str | None, ctx: Context) -> str | None:
    """How AWS answers with a value the client sent. Only ServiceRole changes form: AWS takes
    "a role name (optionally prefixed with a custom path) or its ARN" and a saved
    configuration (`eb config save`, which reads DescribeConfigurationSettings) shows the
    ARN. Every other value is answered as sent (no AWS source says otherwise)."""
    if value is None or key[1:] != ("aws:elasticbeanstalk:environment", "ServiceRole") or value.startswith("arn:"):
        return value
    return f"arn:{ctx.partition}:iam::{ctx.account_id}:role/{value.lstrip('/')}"


def _instance_types(values: dict[tuple[str | None, str, str], str | None]) -> dict[tuple[str | None, str, str], str]:
    """aws:ec2:instances/InstanceTypes and the obsolete aws:autoscaling:launchconfiguration/
    InstanceType: "The first value on that list is equivalent to the value of the InstanceType
    option ... If you specify both, the first instance type on the list in the InstanceTypes
    option is used, and InstanceType is ignored." The default is "A list of two instance
    types. Varies by account and Region": here t3.micro and t3.small, in the ", " form AWS
    shows its own lists in."""
    types = values.get((None, "aws:ec2:instances", "InstanceTypes"))
    single = values.get((None, "aws:autoscaling:launchconfiguration", "InstanceType"))
    if not types:
        types = single or "t3.micro, t3.small"
    first = types.split(",")[0].strip()
    return {
        (None, "aws:ec2:instances", "InstanceTypes"): types,
        (None, "aws:autoscaling:launchconfiguration", "InstanceType"): first,
    }


def instance_type(user: list[dict[str, Any]]) -> str:
    """The instance type the environment's instances run."""
    values = {setting_key(s): s.get("Value") for s in user}
    return _instance_types(values)[(None, "aws:autoscaling:launchconfiguration", "InstanceType")]


def _security_groups(
    values: dict[tuple[str | None, str, str], str | None], ctx: Context
) -> dict[tuple[str | None, str, str], str]:
    """Unless DisableDefaultEC2SecurityGroup is true, "Elastic Beanstalk creates a default
    security group ... It attaches this security group to the EC2 instances", and the
    answer's SecurityGroups names it after the client's (a real answer shows
    "awseb-e-9zv3vythg2-stack-AWSEBSecurityGroup-UT80P94G03C2")."""
    key = (None, "aws:autoscaling:launchconfiguration", "SecurityGroups")
    disabled = values.get((None, "aws:autoscaling:launchconfiguration", "DisableDefaultEC2SecurityGroup")) or ""
    if disabled.lower() == "true":
        return {key: values[key]} if values.get(key) else {}
    own = f"awseb-{ctx.environment_id}-stack-AWSEBSecurityGroup-{_suffix(ctx.environment_id)}"
    return {key: ",".join(g for g in (values.get(key), own) if g)}


def _suffix(environment_id: str) -> str:
    # Stable per environment, in the form of CloudFormation's physical-id suffixes.
    return "".join(c for c in environment_id.upper() if c.isalnum())[-12:].rjust(12, "X")


def _option(key: tuple[str | None, str, str], value: str | None) -> dict[str, Any]:
    resource, namespace, name = key
    option: dict[str, Any] = {"Namespace": namespace, "OptionName": name}
    resource = resource or RESOURCE_NAMES.get((namespace, name), RESOURCE_NAMES.get(namespace))
    if resource:
        option["ResourceName"] = resource
    if value is not None:
        option["Value"] = value
    return option
