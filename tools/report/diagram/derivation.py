"""The picture's graph, derived from the assembly: which boxes there are and what links them."""

from __future__ import annotations

from tools.report.assembly import Assembly, Resource, ResourceRef, as_list
from tools.report.diagram.graph import Graph, Node
from tools.report.diagram.nodes import name, resource_node, waf_lines
from tools.report.diagram.vpcs import subnet_key, vpc_frame, vpc_key

VERBS = {
    "sagemaker:InvokeEndpoint": "invoke",
    "sqs:SendMessage": "enqueue",
    "dynamodb:PutItem": "write",
    "dynamodb:UpdateItem": "write",
    "dynamodb:GetItem": "read",
    "dynamodb:Query": "read",
    "s3:PutObject": "write",
    "s3:GetObject": "read",
}


def role_statements(asm: Assembly, role_ref: ResourceRef | None) -> list[tuple[str, dict]]:
    """(stack, statement) for every statement attached to a role in the templates."""
    if role_ref is None:
        return []
    role = asm.get(role_ref)
    if role is None:
        return []
    found = [
        (role_ref.stack, st)
        for p in role.properties.get("Policies", [])
        for st in as_list(p["PolicyDocument"].get("Statement"))
    ]
    policies = {asm.ref_of(role_ref.stack, arn) for arn in role.properties.get("ManagedPolicyArns", [])}
    for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in asm.resources(kind):
            if role_ref in asm.refs(policy.ref.stack, policy.properties.get("Roles")):
                policies.add(policy.ref)
    for ref in policies:
        policy = asm.get(ref)
        if policy is not None and policy.type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            found += [(ref.stack, st) for st in as_list(policy.properties["PolicyDocument"].get("Statement"))]
    return found


def derive(asm: Assembly, endpoint_labels: dict[str, tuple[str, list[str]]] | None = None) -> Graph:
    """Build the picture's graph from the assembly. `endpoint_labels` (construct path ->
    title, lines) lets the report add facts the templates do not carry (model id)."""
    g = Graph()
    endpoint_labels = endpoint_labels or {}

    # Endpoints first: every other box points at them.
    endpoint_subnets = _add_endpoints(asm, g, endpoint_labels)
    functions: list[Resource] = []
    for api in asm.resources("AWS::ApiGateway::RestApi"):
        _add_api(asm, g, api, functions)
    _add_event_sources(asm, g, functions)
    for fn in functions:
        _add_function_access(asm, g, fn)
    _add_dead_letter_queues(asm, g)
    for domain in asm.resources("AWS::SageMaker::Domain"):
        _add_studio(asm, g, domain)

    for ep_key, subnets in endpoint_subnets.items():
        for subnet in subnets:
            vpc = subnet[1] if subnet else None
            if vpc:
                vpc_frame(asm, g, vpc).members.add(ep_key)
    return g


def _scaling_ranges(asm: Assembly) -> dict[ResourceRef, tuple[int, int]]:
    """(min, max) capacity of each scalable target, by the resource it scales."""
    scaling: dict[ResourceRef, tuple[int, int]] = {}
    for target in asm.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
        for ref in asm.refs(target.ref.stack, target.properties.get("ResourceId")):
            scaling[ref] = (target.properties.get("MinCapacity"), target.properties.get("MaxCapacity"))
    return scaling


def _add_endpoints(
    asm: Assembly, g: Graph, endpoint_labels: dict[str, tuple[str, list[str]]]
) -> dict[str, set]:
    """A box per endpoint (instance type and count range per variant) and its data capture
    bucket; returns the subnets of each endpoint whose model runs in a VPC."""
    scaling = _scaling_ranges(asm)
    endpoint_subnets: dict[str, set] = {}
    for ep in asm.resources("AWS::SageMaker::Endpoint"):
        config = asm.get(asm.ref_of(ep.ref.stack, ep.properties.get("EndpointConfigName")))
        variants = config.properties.get("ProductionVariants", []) if config else []
        lines = []
        for v in variants:
            lines.append(_variant_line(v, scaling, ep.ref))
            model = asm.get(asm.ref_of(config.ref.stack, v.get("ModelName")))
            if model and model.properties.get("VpcConfig"):
                endpoint_subnets[str(ep.ref)] = {
                    subnet_key(asm, model.ref.stack, s)
                    for s in model.properties["VpcConfig"].get("Subnets", [])
                }
        title, extra = endpoint_labels.get(ep.path, (f"Endpoint {name(ep, ('Resource', 'Endpoint'))}", []))
        g.add(Node(str(ep.ref), "endpoint", title, extra + lines))
        capture = (config.properties.get("DataCaptureConfig") or {}) if config else {}
        for bucket in asm.refs(config.ref.stack, capture.get("DestinationS3Uri")) if capture else ():
            res = asm.get(bucket)
            if res and res.type == "AWS::S3::Bucket":
                g.link(str(ep.ref), resource_node(g, res), "data capture")
    return endpoint_subnets


def _variant_line(v: dict, scaling: dict[ResourceRef, tuple[int, int]], endpoint: ResourceRef) -> str:
    """`<instance type> x <count or range>` for one production variant."""
    count = v.get("InitialInstanceCount", 1)
    low, high = scaling.get(endpoint, (count, count))
    managed = v.get("ManagedInstanceScaling")  # a shared endpoint (inference components)
    if managed:
        low, high = managed.get("MinInstanceCount", count), managed.get("MaxInstanceCount", count)
    return f"{v.get('InstanceType', 'serverless')} x {low if low == high else f'{low}..{high}'}"


def _add_api(asm: Assembly, g: Graph, api: Resource, functions: list[Resource]) -> None:
    """The REST API's box, the clients (and WAF) in front of it, and the functions its methods
    proxy to (appended to `functions`)."""
    methods = [
        m
        for m in asm.resources("AWS::ApiGateway::Method")
        if asm.ref_of(m.ref.stack, m.properties.get("RestApiId")) == api.ref
    ]
    auth = sorted({m.properties.get("AuthorizationType", "NONE") for m in methods})
    types = "/".join((api.properties.get("EndpointConfiguration") or {}).get("Types") or ["EDGE"])
    api_key = g.add(
        Node(
            str(api.ref),
            "api",
            "API Gateway (REST)",
            [f"{types}, {len(methods)} methods", f"auth {', '.join(auth)}"],
        )
    )
    clients = g.add(
        Node("clients", "clients", "Clients", ["SigV4-signed HTTPS" if auth == ["AWS_IAM"] else "HTTPS"])
    )
    entry = api_key
    for assoc in asm.resources("AWS::WAFv2::WebACLAssociation"):
        if api.ref in asm.refs(assoc.ref.stack, assoc.properties.get("ResourceArn")):
            acl = asm.get(asm.ref_of(assoc.ref.stack, assoc.properties.get("WebACLArn")))
            if acl is not None:
                entry = g.add(Node(str(acl.ref), "waf", "WAF web ACL", waf_lines(acl)))
                g.link(entry, api_key)
    g.link(clients, entry)
    for m in methods:
        for ref in asm.refs(m.ref.stack, (m.properties.get("Integration") or {}).get("Uri")):
            fn = asm.get(ref)
            if fn and fn.type == "AWS::Lambda::Function":
                g.link(api_key, resource_node(g, fn), "proxy")
                if fn not in functions:
                    functions.append(fn)


def _add_event_sources(asm: Assembly, g: Graph, functions: list[Resource]) -> None:
    """Event source mappings: the source triggers its function (appended to `functions`)."""
    for mapping in asm.resources("AWS::Lambda::EventSourceMapping"):
        source = asm.get(asm.ref_of(mapping.ref.stack, mapping.properties.get("EventSourceArn")))
        fn = asm.get(asm.ref_of(mapping.ref.stack, mapping.properties.get("FunctionName")))
        if source and fn and resource_node(g, source):
            g.link(resource_node(g, source), resource_node(g, fn), "trigger")
            if fn not in functions:
                functions.append(fn)


def _add_function_access(asm: Assembly, g: Graph, fn: Resource) -> None:
    """An arrow from the function to each box its role may act on, labelled with the verbs."""
    key = str(fn.ref)
    for stack, st in role_statements(asm, asm.ref_of(fn.ref.stack, fn.properties.get("Role"))):
        if st.get("Effect", "Allow") != "Allow":
            continue
        verbs = sorted({VERBS[a] for a in as_list(st.get("Action")) if a in VERBS})
        if not verbs:
            continue
        for ref in asm.refs(stack, st.get("Resource")):
            target = asm.get(ref)
            if target is not None and (dst := resource_node(g, target)):
                g.link(key, dst, "/".join(verbs))


def _add_dead_letter_queues(asm: Assembly, g: Graph) -> None:
    """Each drawn queue's dead-letter queue, after its maximum receive count."""
    for queue in asm.resources("AWS::SQS::Queue"):
        if str(queue.ref) not in g.nodes:
            continue
        redrive = queue.properties.get("RedrivePolicy") or {}
        dlq = asm.get(asm.ref_of(queue.ref.stack, redrive.get("deadLetterTargetArn")))
        if dlq:
            g.link(str(queue.ref), resource_node(g, dlq), f"after {redrive.get('maxReceiveCount', '?')} tries")


def _add_studio(asm: Assembly, g: Graph, domain: Resource) -> None:
    """The Studio domain's box, the endpoints its execution role may invoke, and its VPC."""
    p = domain.properties
    profiles = [
        u
        for u in asm.resources("AWS::SageMaker::UserProfile")
        if domain.ref in asm.refs(u.ref.stack, u.properties.get("DomainId"))
    ]
    key = g.add(
        Node(
            str(domain.ref),
            "studio",
            "SageMaker Studio",
            [
                f"{p.get('AppNetworkAccessType', 'PublicInternetOnly')}, auth {p.get('AuthMode', '?')}",
                f"{len(profiles)} user profile{'s' if len(profiles) != 1 else ''}",
            ],
        )
    )
    role = asm.ref_of(domain.ref.stack, (p.get("DefaultUserSettings") or {}).get("ExecutionRole"))
    for stack, st in role_statements(asm, role):
        if any(str(a).startswith("sagemaker:InvokeEndpoint") for a in as_list(st.get("Action"))):
            for ref in asm.refs(stack, st.get("Resource")):
                if str(ref) in g.nodes and g.nodes[str(ref)].kind == "endpoint":
                    g.link(key, str(ref), "invoke")
    vpc = vpc_key(asm, domain.ref.stack, p.get("VpcId"))
    if vpc:
        vpc_frame(asm, g, vpc).members.add(key)
