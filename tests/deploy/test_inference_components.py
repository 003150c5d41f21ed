"""Shared endpoints (inference components, issue 11): the rules that span resources.

An endpoint whose variant uses managed instance scaling, the inference components placed
on it, their Application Auto Scaling targets and policies, the alarm that scales a
component out from zero and the roles that invoke it are separate resources; SageMaker,
Application Auto Scaling and IAM check each alone, and the faults below only show at
deploy or, worse, at the first call after an idle night. Each test runs over every
shipped config (configs without inference components pass trivially).
"""

from __future__ import annotations

from tests.deploy.model import (
    Deployment,
    Res,
    alarm_metrics,
    allows_action,
    assert_none,
    condition_values,
    covers,
    identity_documents,
    listify,
    statements,
)
from tests.deploy.startup_specs import FAMILY_FLOOR, SPEC_KEYS, TIMEOUTS, family_of, spec_of


def _components_on(dep: Deployment, endpoint: Res) -> list[Res]:
    return [
        ic for ic in dep.resources("AWS::SageMaker::InferenceComponent")
        if dep.references(ic.stack, ic.props.get("EndpointName"), endpoint)
    ]


def _endpoints_of(dep: Deployment, config: Res) -> list[Res]:
    return [
        e for e in dep.resources("AWS::SageMaker::Endpoint")
        if dep.references(e.stack, e.props.get("EndpointConfigName"), config)
    ]


def _name(dep: Deployment, ic: Res) -> str | None:
    return dep.render(ic.stack, ic.props.get("InferenceComponentName"))


def _scalable_target(dep: Deployment, ic: Res) -> Res | None:
    name = _name(dep, ic)
    for target in dep.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
        if (dep.render(target.stack, target.props.get("ResourceId")) == f"inference-component/{name}"
                and target.props.get("ScalableDimension") == "sagemaker:inference-component:DesiredCopyCount"):
            return target
    return None


def test_managed_instance_scaling_only_on_endpoints_hosting_inference_components(deployment):
    """A production variant with ManagedInstanceScaling names no model, its endpoint config
    names an execution role, and its endpoint hosts at least one inference component;
    SageMaker refuses managed instance scaling on model-based variants, and an endpoint for
    inference components needs the role on its config.

    Sources: SageMaker API reference, "ProductionVariantManagedInstanceScaling" and
    CreateEndpointConfig (ExecutionRoleArn); SageMaker guide "Scale an endpoint to zero
    instances" (requirements: hosts one or more inference components), https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html
    """
    dep = deployment
    problems = []
    for config in dep.resources("AWS::SageMaker::EndpointConfig"):
        for variant in listify(config.props.get("ProductionVariants")):
            if "ManagedInstanceScaling" not in variant:
                continue
            if variant.get("ModelName") is not None:
                problems.append(f"{dep.name}: {config}: a model-based variant has ManagedInstanceScaling")
            if config.props.get("ExecutionRoleArn") is None:
                problems.append(f"{dep.name}: {config}: hosts inference components but names no ExecutionRoleArn")
            endpoints = _endpoints_of(dep, config)
            if not endpoints or not all(_components_on(dep, e) for e in endpoints):
                problems.append(f"{dep.name}: {config}: ManagedInstanceScaling on an endpoint without inference components")
    assert_none(problems, "ManagedInstanceScaling only where inference components are hosted")


def _step_policies_of(dep: Deployment, target: Res) -> list[Res]:
    return [
        p for p in dep.resources("AWS::ApplicationAutoScaling::ScalingPolicy")
        if p.props.get("PolicyType") == "StepScaling" and dep.references(p.stack, p.props.get("ScalingTargetId"), target)
    ]


def test_components_that_scale_to_zero_have_a_way_back(deployment):
    """Every inference component whose copy count may reach 0 (scalable target MinCapacity
    0) has a step scaling policy on that target that adds capacity (ChangeInCapacity > 0
    from a lower bound of 0), run by an alarm on AWS/SageMaker NoCapacityInvocationFailures
    of that component. Target tracking cannot scale out from zero copies (its metric is per
    copy): without this path the model scales to zero once and never answers again.

    Source: SageMaker guide "Scale an endpoint to zero instances" ("To enable an endpoint to
    scale out from zero instances"), https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html
    """
    dep = deployment
    problems = []
    for ic in dep.resources("AWS::SageMaker::InferenceComponent"):
        target = _scalable_target(dep, ic)
        if target is None:
            problems.append(f"{dep.name}: {ic}: no scalable target on its DesiredCopyCount")
            continue
        if int(target.props.get("MinCapacity", 1)) > 0:
            continue
        steps = [
            p for p in _step_policies_of(dep, target)
            if (p.props.get("StepScalingPolicyConfiguration") or {}).get("AdjustmentType") == "ChangeInCapacity"
            and any(int(a.get("ScalingAdjustment", 0)) > 0 and a.get("MetricIntervalLowerBound") == 0
                    for a in p.props["StepScalingPolicyConfiguration"].get("StepAdjustments", []))
        ]
        if not steps:
            problems.append(f"{dep.name}: {ic}: copies may reach 0 but no step policy adds one back")
            continue
        name = _name(dep, ic)
        triggers = [
            alarm for alarm in dep.resources("AWS::CloudWatch::Alarm")
            if any((m.namespace, m.name) == ("AWS/SageMaker", "NoCapacityInvocationFailures")
                   and dep.render(alarm.stack, m.dim("InferenceComponentName")) == name
                   for m in alarm_metrics(dep, alarm))
            and any(dep.references(alarm.stack, action, step) for action in listify(alarm.props.get("AlarmActions"))
                    for step in steps)
        ]
        if not triggers:
            problems.append(
                f"{dep.name}: {ic}: no alarm on NoCapacityInvocationFailures[InferenceComponentName={name}] runs its "
                "scale-out-from-zero step policy"
            )
    assert_none(problems, "inference components scaled to zero must scale out again")


def test_instances_kept_for_copies_that_scaled_to_zero_are_refused(deployment):
    """An endpoint whose MinInstanceCount is above 0 hosts at least one inference component
    that keeps a copy (MinCapacity >= 1): with every component at 0 copies the kept
    instances bill by the hour and serve nothing (instances are billed while in service;
    SageMaker AI pricing, real-time inference), where min_copies 1 on one model would
    serve for the same price. The config refuses it; this guards the template.

    Source: DESIGN.md, "Deploy-time facts" (inference components); SageMaker guide "Scale an
    endpoint to zero instances", https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html
    """
    dep = deployment
    problems = []
    for config in dep.resources("AWS::SageMaker::EndpointConfig"):
        for variant in listify(config.props.get("ProductionVariants")):
            minimum = int((variant.get("ManagedInstanceScaling") or {}).get("MinInstanceCount", 0))
            if minimum == 0:
                continue
            for endpoint in _endpoints_of(dep, config):
                targets = [_scalable_target(dep, ic) for ic in _components_on(dep, endpoint)]
                if targets and all(t is not None and int(t.props.get("MinCapacity", 0)) == 0 for t in targets):
                    problems.append(
                        f"{dep.name}: {endpoint} keeps {minimum} instance(s) but every inference component on it "
                        "may scale to 0 copies"
                    )
    assert_none(problems, "no billed instances without copies")


def test_inference_component_startup_timeouts(deployment):
    """Every inference component sets StartupParameters ModelDataDownloadTimeoutInSeconds and
    ContainerStartupHealthCheckTimeoutInSeconds within 60-3600 s and no shorter than what the
    SageMaker SDK would use for its model (the pinned spec's deploy_kwargs, else JumpStart's
    smallest for the container family), as for a classic variant (test_startup_timeouts).

    Sources: SageMaker API reference, "InferenceComponentStartupParameters" (60-3600 s); the
    JumpStart deploy kwargs as in tests/deploy/test_startup_timeouts.py.
    """
    dep = deployment
    problems = []
    for ic in dep.resources("AWS::SageMaker::InferenceComponent"):
        spec_props = ic.props.get("Specification") or {}
        startup = spec_props.get("StartupParameters") or {}
        model = dep.ref(ic.stack, spec_props.get("ModelName"))
        spec = spec_of(dep, model) or {}
        deploy_kwargs = spec.get("deploy_kwargs") or {}
        family = family_of(dep, model)
        for prop in TIMEOUTS:
            value = startup.get(prop)
            floor = deploy_kwargs.get(SPEC_KEYS[prop]) or FAMILY_FLOOR.get(family)
            if value is None or not 60 <= int(value) <= 3600:
                problems.append(f"{dep.name}: {ic}: StartupParameters.{prop}={value}")
            elif floor and int(value) < int(floor):
                problems.append(f"{dep.name}: {ic}: StartupParameters.{prop}={value} < {floor}")
    assert_none(problems, "inference component start-up timeouts must be set and not below JumpStart's")


def test_invokers_of_a_shared_endpoint_may_invoke_its_components(deployment):
    """Every role allowed sagemaker:InvokeEndpoint on an endpoint that hosts inference
    components is also allowed it on each of those components: InvokeEndpoint with
    InferenceComponentName is authorized against the inference component as well as the
    endpoint (Service Authorization Reference, Amazon SageMaker AI, InvokeEndpoint resource
    types: endpoint, inference-component), so a grant of the endpoint alone may be refused.

    Source: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemakerai.html
    """
    dep = deployment
    problems = []
    for endpoint in dep.resources("AWS::SageMaker::Endpoint"):
        components = _components_on(dep, endpoint)
        if not components:
            continue
        for role in dep.resources("AWS::IAM::Role"):
            granted = [
                (stack, s) for stack, document in identity_documents(dep, role) for s in statements(document)
                if allows_action(s, "sagemaker:InvokeEndpoint")
            ]
            if not any(covers(dep, stack, s, endpoint) for stack, s in granted):
                continue
            for ic in components:
                if not any(covers(dep, stack, s, ic) for stack, s in granted):
                    problems.append(f"{dep.name}: {role} may invoke {endpoint} but not its component {ic}")
    assert_none(problems, "invoke grants of shared endpoints must cover their inference components")


def test_component_invoke_grants_name_the_endpoint_too(deployment):
    """The converse of the test above, for both invoke actions (InvokeEndpoint and
    InvokeEndpointWithResponseStream, the streaming function's): a role allowed the action on
    an inference component is allowed it on the endpoint hosting it, and a role allowed the
    action on an endpoint hosting components is allowed it on at least one of them (the
    streaming role covers only the components whose models stream). A grant of one of the
    two resources alone deploys and is then refused on every call.

    Source: Service Authorization Reference, "Actions, resources, and condition keys for
    Amazon SageMaker AI" (InvokeEndpoint, InvokeEndpointWithResponseStream: resource types
    endpoint, inference-component),
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemakerai.html ;
    SageMaker API Reference, "InvokeEndpointWithResponseStream" (InferenceComponentName),
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointWithResponseStream.html
    """
    dep = deployment
    hosting = {e: ics for e in dep.resources("AWS::SageMaker::Endpoint") if (ics := _components_on(dep, e))}
    problems = []
    for role in dep.resources("AWS::IAM::Role"):
        documents = identity_documents(dep, role)
        for action in ("sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"):
            granted = [(stack, s) for stack, d in documents for s in statements(d) if allows_action(s, action)]
            if not granted:
                continue
            for endpoint, components in hosting.items():
                on_endpoint = any(covers(dep, stack, s, endpoint) for stack, s in granted)
                on_components = [ic for ic in components if any(covers(dep, stack, s, ic) for stack, s in granted)]
                if on_components and not on_endpoint:
                    problems.append(f"{dep.name}: {role} may {action} on {on_components[0]} but not on {endpoint}")
                if on_endpoint and not on_components:
                    problems.append(f"{dep.name}: {role} may {action} on {endpoint} but on none of its components")
    assert_none(problems, "invoking an inference component needs a grant of it and of its endpoint")


def test_pass_role_only_to_sagemaker(deployment):
    """Any iam:PassRole grant on a role SageMaker assumes (the execution role of an endpoint
    or its models) is conditioned on iam:PassedToService = sagemaker.amazonaws.com, so the
    grantee cannot hand the role to another service.

    Source: IAM User Guide, "Granting a user permissions to pass a role to an AWS service"
    (iam:PassedToService), https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
    """
    dep = deployment
    sagemaker_roles = [
        role for role in dep.resources("AWS::IAM::Role")
        if "sagemaker.amazonaws.com" in str(role.props.get("AssumeRolePolicyDocument"))
    ]
    problems = []
    for holder in dep.resources("AWS::IAM::Role"):
        for stack, document in identity_documents(dep, holder):
            for s in statements(document):
                if not allows_action(s, "iam:PassRole"):
                    continue
                for role in sagemaker_roles:
                    if covers(dep, stack, s, role) and condition_values(
                        dep, stack, s, "iam:PassedToService", ("StringEquals", "StringLike")
                    ) != ["sagemaker.amazonaws.com"]:
                        problems.append(f"{dep.name}: {holder} may pass {role} to any service")
    assert_none(problems, "PassRole of SageMaker roles only to sagemaker.amazonaws.com")


def test_api_5xx_alarms_exclude_the_503s_of_models_scaling_up(deployment):
    """Where an inference component may be at 0 copies, the front door answers its calls with
    503 `model_scaling_up` (and Retry-After) by design while a copy starts; no alarm may
    count API Gateway 5XXError without taking those out, through a metric from a log metric
    filter on that code.

    Source: Amazon API Gateway Developer Guide, "Amazon API Gateway dimensions and metrics"
    (5XXError), https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html ;
    the 503 contract: docs/shared-endpoints.md.
    """
    dep = deployment
    scales_to_zero = any(
        t is not None and int(t.props.get("MinCapacity", 1)) == 0
        for t in (_scalable_target(dep, ic) for ic in dep.resources("AWS::SageMaker::InferenceComponent"))
    )
    if not scales_to_zero:
        return
    filtered = {
        (dep.render(f.stack, t.get("MetricNamespace")), dep.render(f.stack, t.get("MetricName")))
        for f in dep.resources("AWS::Logs::MetricFilter") if "model_scaling_up" in str(f.props.get("FilterPattern"))
        for t in listify(f.props.get("MetricTransformations"))
    }
    problems = []
    for alarm in dep.resources("AWS::CloudWatch::Alarm"):
        metrics = alarm_metrics(dep, alarm)
        if any((m.namespace, m.name) == ("AWS/ApiGateway", "5XXError") for m in metrics):
            if not any((m.namespace, m.name) in filtered for m in metrics):
                problems.append(f"{dep.name}: {alarm} counts 5XXError including the expected 503 model_scaling_up")
    assert_none(problems, "API 5XX alarms must not count the 503s of models scaling up")


def _mutated(change) -> Deployment:
    """The shared-endpoint example's templates with one fault put in by `change(templates)`."""
    import copy

    from tests.deploy.model import load

    dep = load("shared-endpoint")
    templates = copy.deepcopy(dep.templates)
    change(templates)
    return Deployment(f"{dep.name} (mutated)", dep.config,
                      {sid: (dep.stack_names[sid], template) for sid, template in templates.items()})


def _drop(kind: str, predicate=lambda props: True):
    def change(templates: dict) -> None:
        resources = templates["Endpoints"]["Resources"]
        for lid in [lid for lid, r in resources.items() if r["Type"] == kind and predicate(r.get("Properties", {}))]:
            del resources[lid]
    return change


def _allow_pass_role(templates: dict) -> None:
    resources = templates["Endpoints"]["Resources"]
    [role] = [lid for lid, r in resources.items() if r["Type"] == "AWS::IAM::Role"
              and "sagemaker.amazonaws.com" in str(r["Properties"]["AssumeRolePolicyDocument"])]
    [policy] = [r for r in resources.values() if r["Type"] == "AWS::IAM::ManagedPolicy" and "ReadModelArtifacts" in str(r)]
    policy["Properties"]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": {"Fn::GetAtt": [role, "Arn"]}})


def _stream_grant(components: bool):
    """Keep only the component ARNs (True) or only the other resources (False) of the
    streaming role's StreamFromModels statement."""
    def change(templates: dict) -> None:
        for r in templates["Api"]["Resources"].values():
            if r["Type"] != "AWS::IAM::ManagedPolicy":
                continue
            for s in r["Properties"]["PolicyDocument"]["Statement"]:
                if s.get("Sid") == "StreamFromModels":
                    s["Resource"] = [x for x in s["Resource"] if ("InferenceComponentArn" in str(x)) == components]
    return change


def test_the_rules_catch_their_faults():
    """Each rule above fails on the example with its fault put in (a rule that cannot fail
    guards nothing)."""
    import pytest

    faults = [
        (test_components_that_scale_to_zero_have_a_way_back,
         _drop("AWS::CloudWatch::Alarm", lambda p: p.get("MetricName") == "NoCapacityInvocationFailures")),
        (test_components_that_scale_to_zero_have_a_way_back,
         _drop("AWS::ApplicationAutoScaling::ScalingPolicy", lambda p: p.get("PolicyType") == "StepScaling")),
        (test_inference_component_startup_timeouts,
         lambda t: [r["Properties"]["Specification"].pop("StartupParameters") for r in t["Endpoints"]["Resources"].values()
                    if r["Type"] == "AWS::SageMaker::InferenceComponent"]),
        (test_instances_kept_for_copies_that_scaled_to_zero_are_refused,
         lambda t: [v["ManagedInstanceScaling"].update(MinInstanceCount=1) for r in t["Endpoints"]["Resources"].values()
                    if r["Type"] == "AWS::SageMaker::EndpointConfig" for v in r["Properties"]["ProductionVariants"]]),
        (test_managed_instance_scaling_only_on_endpoints_hosting_inference_components,
         _drop("AWS::SageMaker::InferenceComponent")),
        (test_invokers_of_a_shared_endpoint_may_invoke_its_components,
         lambda t: [s.update(Resource=[x for x in s["Resource"] if "InferenceComponentArn" not in str(x)])
                    for r in t["Api"]["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"
                    for s in r["Properties"]["PolicyDocument"]["Statement"] if "sagemaker:InvokeEndpoint" in str(s)]),
        (test_api_5xx_alarms_exclude_the_503s_of_models_scaling_up,
         lambda t: [t["Api"]["Resources"].pop(lid) for lid in list(t["Api"]["Resources"])
                    if "ScalingUpResponses" in lid]),
        (test_pass_role_only_to_sagemaker, _allow_pass_role),
        (test_component_invoke_grants_name_the_endpoint_too, _stream_grant(components=True)),
        (test_component_invoke_grants_name_the_endpoint_too, _stream_grant(components=False)),
    ]
    for rule, change in faults:
        with pytest.raises(AssertionError):
            rule(_mutated(change))
