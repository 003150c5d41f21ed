"""Deploy-contract tests: one model of a synthesized deployment, shared by every module
(the `deployment` fixture in this package's conftest gives each test one per shipped config).

cdk-nag, checkov and cfn-lint look at one resource at a time; the faults this package
keeps out span resources (a log group and its key's policy, an alarm and its topic's
policy, an event source mapping and its queue and function, an endpoint config and
every role that may create its endpoint). Each test states one documented AWS
requirement, generically over every resource of every stack, and runs over the
synthesized assembly of every shipped config (`tests.synth.CONFIGS`) through the
session-cached `tests.synth.synth` -- no extra synth. This module wraps one assembly
in a `Deployment`: the templates by stack id, the validated config, and resolution of
references within a stack (`Ref`, `Fn::GetAtt`, `Fn::Sub`) and across stacks
(`Fn::GetStackOutput` weak references and `Fn::ImportValue` exports, followed to the
producing stack's output value), plus the IAM/KMS policy and alarm helpers the
modules share.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable


from tests.synth import CONFIGS, synth

# Stands for AWS::AccountId wherever a value is rendered to text (ARNs, conditions).
ACCOUNT = "111122223333"

CONFIG_NAMES = sorted(CONFIGS)

# Hardware facts per SageMaker instance type: (vCPUs, GPUs). Source: "Amazon EC2
# instance type specifications - Accelerated computing",
# https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html (the ml.* hosting type
# has the hardware of the EC2 type of the same name).
INSTANCE_FACTS: dict[str, tuple[int, int]] = {
    "ml.g4dn.xlarge": (4, 1), "ml.g4dn.2xlarge": (8, 1), "ml.g4dn.4xlarge": (16, 1),
    "ml.g4dn.8xlarge": (32, 1), "ml.g4dn.12xlarge": (48, 4), "ml.g4dn.16xlarge": (64, 1),
    "ml.g5.xlarge": (4, 1), "ml.g5.2xlarge": (8, 1), "ml.g5.4xlarge": (16, 1),
    "ml.g5.8xlarge": (32, 1), "ml.g5.12xlarge": (48, 4), "ml.g5.16xlarge": (64, 1),
    "ml.g5.24xlarge": (96, 4), "ml.g5.48xlarge": (192, 8),
    "ml.g6.xlarge": (4, 1), "ml.g6.2xlarge": (8, 1), "ml.g6.12xlarge": (48, 4), "ml.g6.48xlarge": (192, 8),
    "ml.p3.2xlarge": (8, 1), "ml.p3.8xlarge": (32, 4), "ml.p3.16xlarge": (64, 8),
    "ml.p4d.24xlarge": (96, 8),
}


@dataclass(frozen=True)
class Res:
    """One resource of one stack of the deployment."""

    stack: str
    lid: str
    body: dict = field(compare=False, repr=False)

    @property
    def type(self) -> str:
        return self.body["Type"]

    @property
    def props(self) -> dict:
        return self.body.get("Properties", {})

    def __str__(self) -> str:
        return f"{self.stack}/{self.lid}"


def listify(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class Deployment:
    """The synthesized templates of one config, with cross-stack reference resolution."""

    def __init__(self, name: str, config: Any, stacks: dict[str, tuple[str, dict]]):
        self.name = name
        self.config = config
        self.region: str = config.region
        self.templates = {sid: template for sid, (_, template) in stacks.items()}
        self.stack_names = {sid: stack_name for sid, (stack_name, _) in stacks.items()}
        self._by_stack_name = {stack_name: sid for sid, stack_name in self.stack_names.items()}
        self._exports: dict[str, tuple[str, Any]] = {}
        for sid, template in self.templates.items():
            for output in template.get("Outputs", {}).values():
                export = (output.get("Export") or {}).get("Name")
                if isinstance(export, str):
                    self._exports[export] = (sid, output["Value"])

    @classmethod
    def from_app(cls, name: str, deployment: Any, assembly: Any) -> "Deployment":
        """From `stacks.app_builder.build_app`'s result and the App's synthesized assembly."""
        stacks = {
            s.node.id: (s.stack_name, assembly.get_stack_by_name(s.stack_name).template) for s in deployment.stacks
        }
        return cls(name, deployment.config, stacks)

    def __repr__(self) -> str:
        return f"<Deployment {self.name}>"

    # -- resources ---------------------------------------------------------------

    def resources(self, *types: str) -> list[Res]:
        found = []
        for sid, template in self.templates.items():
            for lid, body in template.get("Resources", {}).items():
                if not types or body.get("Type") in types:
                    found.append(Res(sid, lid, body))
        return found

    def resource(self, stack: str, lid: str) -> Res | None:
        body = self.templates.get(stack, {}).get("Resources", {}).get(lid)
        return Res(stack, lid, body) if body is not None else None

    # -- references --------------------------------------------------------------

    def follow(self, stack: str, node: Any) -> tuple[str, Any]:
        """Follow cross-stack references to the producing stack's output value."""
        for _ in range(20):
            if isinstance(node, dict) and "Fn::GetStackOutput" in node:
                ref = node["Fn::GetStackOutput"]
                producer = self._by_stack_name.get(ref.get("StackName"))
                if producer is None:
                    return stack, node  # a stack outside this deployment
                outputs = self.templates[producer].get("Outputs", {})
                assert ref["OutputName"] in outputs, (
                    f"{self.name}/{stack}: Fn::GetStackOutput names output {ref['OutputName']!r} "
                    f"that {producer} does not have"
                )
                stack, node = producer, outputs[ref["OutputName"]]["Value"]
            elif isinstance(node, dict) and isinstance(node.get("Fn::ImportValue"), str) and (
                node["Fn::ImportValue"] in self._exports
            ):
                stack, node = self._exports[node["Fn::ImportValue"]]
            else:
                return stack, node
        raise AssertionError(f"{self.name}: cross-stack reference cycle at {stack}: {node}")

    def target(self, stack: str, node: Any) -> tuple[Res, str | None] | None:
        """The resource (and attribute) a `Ref`/`Fn::GetAtt` value points at, across stacks."""
        stack, node = self.follow(stack, node)
        if not isinstance(node, dict):
            return None
        if isinstance(node.get("Ref"), str):
            res = self.resource(stack, node["Ref"])
            return (res, None) if res else None
        if "Fn::GetAtt" in node:
            getatt = node["Fn::GetAtt"]
            lid, attr = (getatt[0], getatt[1]) if isinstance(getatt, list) else getatt.split(".", 1)
            res = self.resource(stack, lid)
            return (res, attr) if res else None
        return None

    def ref(self, stack: str, node: Any) -> Res | None:
        found = self.target(stack, node)
        return found[0] if found else None

    def references(self, stack: str, node: Any, res: Res) -> bool:
        """Whether a value refers to `res` anywhere inside it (Ref, GetAtt, Sub), across stacks."""
        stack, node = self.follow(stack, node)
        if isinstance(node, list):
            return any(self.references(stack, v, res) for v in node)
        if not isinstance(node, dict):
            return False
        found = self.target(stack, node)
        if found and found[0] == res:
            return True
        if "Fn::Sub" in node and stack == res.stack:
            sub = node["Fn::Sub"]
            text = sub if isinstance(sub, str) else sub[0]
            if any(v.split(".")[0] == res.lid for v in _SUB_VAR.findall(text)):
                return True
        return any(self.references(stack, v, res) for v in node.values())

    def generated(self, stack: str, node: Any) -> bool:
        """Whether a value depends on something CloudFormation generates per resource or per
        stack instance (a resource's Ref/GetAtt, AWS::StackId) rather than only on literals,
        parameters and pseudo parameters such as AWS::StackName or AWS::AccountId."""
        stack, node = self.follow(stack, node)
        if isinstance(node, list):
            return any(self.generated(stack, v) for v in node)
        if not isinstance(node, dict):
            return False
        if isinstance(node.get("Ref"), str):
            name = node["Ref"]
            return name == "AWS::StackId" or self.resource(stack, name) is not None
        if "Fn::GetAtt" in node:
            return True
        if "Fn::Sub" in node:
            sub = node["Fn::Sub"]
            text, variables = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1] if len(sub) > 1 else {})
            for var in _SUB_VAR.findall(text):
                if var in variables:
                    if self.generated(stack, variables[var]):
                        return True
                elif var == "AWS::StackId" or "." in var or self.resource(stack, var) is not None:
                    return True
            return False
        return any(self.generated(stack, v) for v in node.values())

    # -- rendering ---------------------------------------------------------------

    def pseudo(self, stack: str, name: str) -> str | None:
        china, gov = self.region.startswith("cn-"), self.region.startswith("us-gov-")
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws-cn" if china else "aws-us-gov" if gov else "aws",
            "AWS::URLSuffix": "amazonaws.com.cn" if china else "amazonaws.com",
            "AWS::StackName": self.stack_names.get(stack, stack),
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT}:stack/{self.stack_names.get(stack)}/{{id}}",
        }.get(name)

    def render(self, stack: str, node: Any) -> str | None:
        """A value as text: pseudo parameters substituted (AWS::AccountId -> ACCOUNT),
        references to resources as `{stack/lid.Attr}` placeholders, cross-stack references
        followed. None where the value is not text (AWS::NoValue, lists)."""
        stack, node = self.follow(stack, node)
        if isinstance(node, bool):
            return str(node).lower()
        if isinstance(node, (str, int, float)):
            return str(node)
        if not isinstance(node, dict):
            return None
        if isinstance(node.get("Ref"), str):
            name = node["Ref"]
            return self.pseudo(stack, name) if name.startswith("AWS::") else f"{{{stack}/{name}}}"
        if "Fn::GetAtt" in node:
            getatt = node["Fn::GetAtt"]
            lid, attr = (getatt[0], getatt[1]) if isinstance(getatt, list) else getatt.split(".", 1)
            return f"{{{stack}/{lid}.{attr}}}"
        if "Fn::Join" in node:
            sep, parts = node["Fn::Join"]
            if not isinstance(parts, list):
                return None
            rendered = [self.render(stack, p) for p in parts]
            return None if any(r is None for r in rendered) else sep.join(rendered)
        if "Fn::Sub" in node:
            sub = node["Fn::Sub"]
            text, variables = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1] if len(sub) > 1 else {})

            def replace(match: re.Match) -> str:
                var = match.group(1)
                if var in variables:
                    return self.render(stack, variables[var]) or ""
                if var.startswith("AWS::"):
                    return self.pseudo(stack, var) or ""
                return f"{{{stack}/{var}}}"

            return _SUB_VAR.sub(replace, text)
        if "Fn::Select" in node:
            index, values = node["Fn::Select"]
            if isinstance(values, dict) and "Fn::Split" in values:
                delimiter, source = values["Fn::Split"]
                text = self.render(stack, source)
                return text.split(delimiter)[int(index)] if text is not None else None
            if isinstance(values, list):
                return self.render(stack, values[int(index)])
        return None

    # -- identities --------------------------------------------------------------

    def arn(self, res: Res) -> str:
        """The ARN the resource will have; a generated name stands in where CloudFormation
        generates one. Lower-case where the service lower-cases names (SageMaker)."""
        partition, region = self.pseudo(res.stack, "AWS::Partition"), self.region
        generated = f"{res.lid.lower()}-generated"

        def name(prop: str) -> str:
            value = res.props.get(prop)
            return (self.render(res.stack, value) if value is not None else None) or generated

        kinds = {
            "AWS::SageMaker::Endpoint": lambda: f"sagemaker:{region}:{ACCOUNT}:endpoint/{name('EndpointName').lower()}",
            "AWS::SageMaker::EndpointConfig": lambda: (
                f"sagemaker:{region}:{ACCOUNT}:endpoint-config/{name('EndpointConfigName').lower()}"
            ),
            "AWS::SageMaker::Model": lambda: f"sagemaker:{region}:{ACCOUNT}:model/{name('ModelName').lower()}",
            "AWS::KMS::Key": lambda: f"kms:{region}:{ACCOUNT}:key/{generated}",
            "AWS::SNS::Topic": lambda: f"sns:{region}:{ACCOUNT}:{name('TopicName')}",
            "AWS::Logs::LogGroup": lambda: f"logs:{region}:{ACCOUNT}:log-group:{name('LogGroupName')}",
            "AWS::SQS::Queue": lambda: f"sqs:{region}:{ACCOUNT}:{name('QueueName')}",
            "AWS::Lambda::Function": lambda: f"lambda:{region}:{ACCOUNT}:function:{name('FunctionName')}",
        }
        tail = kinds.get(res.type, lambda: f"{res.type}:{region}:{ACCOUNT}:{generated}")()
        return f"arn:{partition}:{tail}"


@lru_cache(maxsize=None)
def load(config_name: str) -> Deployment:
    """The deployment of a shipped config, from the session-cached synth."""
    return Deployment.from_app(config_name, *_synth_parts(config_name))


def _synth_parts(config_name: str):
    s = synth(CONFIGS[config_name])
    return s.deployment, s.assembly


def assert_none(problems: Iterable[str], rule: str) -> None:
    problems = list(problems)
    assert not problems, f"{rule}\n  " + "\n  ".join(problems)


# -- IAM and KMS policies ---------------------------------------------------------


def statements(document: Any) -> list[dict]:
    return listify(document.get("Statement")) if isinstance(document, dict) else []


def allows_action(statement: dict, action: str) -> bool:
    """An Allow statement whose Action (wildcards included) covers `action`."""
    if statement.get("Effect") != "Allow":
        return False
    return any(
        isinstance(pattern, str) and fnmatch.fnmatchcase(action.lower(), pattern.lower())
        for pattern in listify(statement.get("Action"))
    )


def service_principals(dep: Deployment, stack: str, statement: dict) -> set[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return {"*"}
    if isinstance(principal, dict):
        return {dep.render(stack, s) or "" for s in listify(principal.get("Service"))}
    return set()


def condition_values(dep: Deployment, stack: str, statement: dict, key: str, operators: Iterable[str] | None = None):
    """Rendered values of a condition key, optionally only under the given operators
    (compared without a ForAnyValue:/ForAllValues: prefix or IfExists suffix)."""
    wanted = {o.lower() for o in operators} if operators else None
    values = []
    for operator, block in (statement.get("Condition") or {}).items():
        base = operator.split(":")[-1].lower().removesuffix("ifexists")
        if wanted is not None and base not in wanted:
            continue
        for condition_key, value in (block or {}).items():
            if condition_key.lower() == key.lower():
                values += [dep.render(stack, v) for v in listify(value)]
    return values


def covers(dep: Deployment, stack: str, statement: dict, res: Res) -> bool:
    """Whether the statement's Resource includes `res` ("*", a reference, or an ARN pattern)."""
    arn = dep.arn(res).lower()
    for entry in listify(statement.get("Resource")):
        if entry == "*":
            return True
        found = dep.target(stack, entry)
        if found and found[0] == res:
            return True
        rendered = dep.render(stack, entry)
        if rendered and fnmatch.fnmatchcase(arn, rendered.lower()):
            return True
    return False


def key_policy(key: Res) -> list[dict]:
    return statements(key.props.get("KeyPolicy"))


def identity_documents(dep: Deployment, role: Res) -> list[tuple[str, dict]]:
    """(stack, policy document) of every identity policy that applies to an IAM role:
    inline Policies, attached ManagedPolicyArns, and ManagedPolicy/Policy resources
    that name the role in Roles."""
    documents: list[tuple[str, dict]] = []
    seen: set[Res] = set()
    for policy in listify(role.props.get("Policies")):
        documents.append((role.stack, policy.get("PolicyDocument", {})))
    for arn in listify(role.props.get("ManagedPolicyArns")):
        policy = dep.ref(role.stack, arn)
        if policy and policy.type == "AWS::IAM::ManagedPolicy" and policy not in seen:
            seen.add(policy)
            documents.append((policy.stack, policy.props.get("PolicyDocument", {})))
    for policy in dep.resources("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::RolePolicy"):
        if policy in seen:
            continue
        names = listify(policy.props.get("Roles")) + listify(policy.props.get("RoleName"))
        if any(dep.references(policy.stack, name, role) for name in names):
            seen.add(policy)
            documents.append((policy.stack, policy.props.get("PolicyDocument", {})))
    return documents


# -- alarms -------------------------------------------------------------------


@dataclass(frozen=True)
class AlarmMetric:
    """One metric an alarm watches (the alarm's own, or one MetricStat of a math alarm)."""

    alarm: Res
    namespace: str
    name: str
    dims: tuple = ()

    @property
    def dim_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.dims)

    def dim(self, name: str) -> Any:
        return dict(self.dims).get(name)

    def __str__(self) -> str:
        return f"{self.alarm} {self.namespace}/{self.name}[{', '.join(sorted(self.dim_names))}]"


def alarm_metrics(dep: Deployment, alarm: Res) -> list[AlarmMetric]:
    props = alarm.props

    def metric(namespace: Any, name: Any, dimensions: Any) -> AlarmMetric:
        dims = tuple((d["Name"], d["Value"]) for d in listify(dimensions))
        return AlarmMetric(alarm, dep.render(alarm.stack, namespace) or "", dep.render(alarm.stack, name) or "", dims)

    if "MetricName" in props:
        return [metric(props.get("Namespace"), props["MetricName"], props.get("Dimensions"))]
    found = []
    for query in listify(props.get("Metrics")):
        stat = (query.get("MetricStat") or {}).get("Metric")
        if stat:
            found.append(metric(stat.get("Namespace"), stat.get("MetricName"), stat.get("Dimensions")))
    return found


def is_math(alarm: Res) -> bool:
    return "Metrics" in alarm.props


ALARM_ACTION_KEYS = ("AlarmActions", "OKActions", "InsufficientDataActions")


def alarm_topics(dep: Deployment) -> dict[Res, list[Res]]:
    """SNS topic of the deployment -> the alarms that notify it."""
    topics: dict[Res, list[Res]] = {}
    for alarm in dep.resources("AWS::CloudWatch::Alarm"):
        for key in ALARM_ACTION_KEYS:
            for action in listify(alarm.props.get(key)):
                topic = dep.ref(alarm.stack, action)
                if topic is not None and topic.type == "AWS::SNS::Topic":
                    topics.setdefault(topic, [])
                    if alarm not in topics[topic]:
                        topics[topic].append(alarm)
    return topics


def endpoint_of(dep: Deployment, metric: AlarmMetric) -> Res | None:
    """The AWS::SageMaker::Endpoint an alarm metric's EndpointName dimension names."""
    value = metric.dim("EndpointName")
    if value is None:
        return None
    found = dep.target(metric.alarm.stack, value)
    if found and found[0].type == "AWS::SageMaker::Endpoint":
        return found[0]
    literal = dep.render(metric.alarm.stack, value)
    for endpoint in dep.resources("AWS::SageMaker::Endpoint"):
        if literal and dep.render(endpoint.stack, endpoint.props.get("EndpointName")) == literal:
            return endpoint
    return None


def endpoint_config_of(dep: Deployment, endpoint: Res) -> Res | None:
    config = dep.ref(endpoint.stack, endpoint.props.get("EndpointConfigName"))
    return config if config is not None and config.type == "AWS::SageMaker::EndpointConfig" else None


def variant_of(dep: Deployment, metric: AlarmMetric) -> tuple[Res, dict, Res | None] | None:
    """(endpoint config, production variant, model) behind an endpoint alarm metric."""
    endpoint = endpoint_of(dep, metric)
    config = endpoint_config_of(dep, endpoint) if endpoint else None
    if config is None:
        return None
    wanted = dep.render(metric.alarm.stack, metric.dim("VariantName")) if metric.dim("VariantName") else None
    variants = listify(config.props.get("ProductionVariants"))
    for variant in variants:
        if wanted is None and len(variants) == 1 or dep.render(config.stack, variant.get("VariantName")) == wanted:
            model = dep.ref(config.stack, variant.get("ModelName"))
            return config, variant, model
    return None


def containers(model: Res | None) -> list[dict]:
    if model is None:
        return []
    return listify(model.props.get("PrimaryContainer")) + listify(model.props.get("Containers"))


def may_use_key(dep: Deployment, role: Res, key: Res, action: str, grant_condition: bool) -> bool:
    """Whether `role` may do the KMS `action` on `key` by its identity policies or the key policy
    (`grant_condition`: only where kms:GrantIsForAWSResource is true)."""

    def satisfies(stack: str, statement: dict) -> bool:
        if not allows_action(statement, action):
            return False
        if grant_condition and "true" not in [
            (v or "").lower() for v in condition_values(dep, stack, statement, "kms:GrantIsForAWSResource", ("Bool",))
        ]:
            return False
        return True

    for stack, document in identity_documents(dep, role):
        if any(satisfies(stack, s) and covers(dep, stack, s, key) for s in listify(document.get("Statement"))):
            return True
    for statement in key_policy(key):
        principal = statement.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, dict) else None
        if aws is not None and dep.references(key.stack, aws, role) and satisfies(key.stack, statement):
            return True
    return False
