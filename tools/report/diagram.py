"""The architecture picture, derived from the synthesized templates.

    python -m tools.report.diagram [--assembly cdk.out] [--out cdk.out/report]

Boxes are resources picked by type (WAF, REST API, Lambda functions, queues,
tables, buckets, SageMaker endpoints, Studio, VPC); arrows are references
between them: API method integrations, event source mappings, dead-letter
targets, data capture destinations, and the resources each function's or
Studio's role may act on. Nothing is drawn by hand, so a config change (another
instance type, a second model, Studio on) changes the picture.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from tools.report.assembly import Assembly, Resource, ResourceRef

# Fill colours per kind, close to the AWS icon families so the picture reads at a glance.
COLOURS = {
    "clients": "#eceff1",
    "waf": "#fde0dc",
    "api": "#f3e5f5",
    "function": "#fff3e0",
    "queue": "#fce4ec",
    "table": "#e3f2fd",
    "bucket": "#e8f5e9",
    "endpoint": "#e0f2f1",
    "studio": "#e0f7fa",
}
STORE_KINDS = ("table", "bucket")
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


@dataclass
class Node:
    key: str
    kind: str
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class Edge:
    src: str
    dst: str
    label: str = ""


@dataclass
class Vpc:
    key: str
    title: str
    lines: list[str]
    members: set[str] = field(default_factory=set)


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    vpcs: list[Vpc] = field(default_factory=list)
    title: str = ""

    def add(self, node: Node) -> str:
        self.nodes.setdefault(node.key, node)
        return node.key

    def link(self, src: str, dst: str, label: str = "") -> None:
        for edge in self.edges:
            if edge.src == src and edge.dst == dst:
                if label and label not in edge.label.split(", "):
                    edge.label = ", ".join(filter(None, [edge.label, label]))
                return
        self.edges.append(Edge(src, dst, label))


GENERIC_NAMES = {"Queue", "Table", "Bucket", "Handler", "Worker", "Topic", "Api"}


def _name(resource: Resource, skip: tuple[str, ...] = ("Resource", "Default", "Bucket", "Function")) -> str:
    """The construct's own name, with its parent's when the name alone says little:
    `Api/FrontDoor/Jobs/Worker/Function/Resource` -> `Jobs Worker`."""
    parts = [p for p in resource.path.split("/")[1:] if p not in skip]
    if not parts:
        return resource.ref.logical_id
    if parts[-1] in GENERIC_NAMES and len(parts) > 1:
        return f"{parts[-2]} {parts[-1]}"
    return parts[-1]


def _role_statements(asm: Assembly, role_ref: ResourceRef | None) -> list[tuple[str, dict]]:
    """(stack, statement) for every statement attached to a role in the templates."""
    if role_ref is None:
        return []
    role = asm.get(role_ref)
    if role is None:
        return []
    found = [
        (role_ref.stack, st)
        for p in role.properties.get("Policies", [])
        for st in _list(p["PolicyDocument"].get("Statement"))
    ]
    policies = {asm.ref_of(role_ref.stack, arn) for arn in role.properties.get("ManagedPolicyArns", [])}
    for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in asm.resources(kind):
            if role_ref in asm.refs(policy.ref.stack, policy.properties.get("Roles")):
                policies.add(policy.ref)
    for ref in policies:
        policy = asm.get(ref)
        if policy is not None and policy.type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            found += [(ref.stack, st) for st in _list(policy.properties["PolicyDocument"].get("Statement"))]
    return found


def _list(value):
    return value if isinstance(value, list) else ([] if value is None else [value])


def derive(asm: Assembly, endpoint_labels: dict[str, tuple[str, list[str]]] | None = None) -> Graph:
    """Build the picture's graph from the assembly. `endpoint_labels` (construct path ->
    title, lines) lets the report add facts the templates do not carry (model id)."""
    g = Graph()
    endpoint_labels = endpoint_labels or {}

    def node_for(res: Resource) -> str | None:
        t, p = res.type, res.properties
        if t == "AWS::Lambda::Function":
            mem = p.get("MemorySize", 128)
            arch = "/".join(p.get("Architectures", ["x86_64"]))
            return g.add(
                Node(
                    str(res.ref),
                    "function",
                    f"Lambda {_name(res)}",
                    [f"{p.get('Runtime', 'container')}, {arch}, {mem} MB"],
                )
            )
        if t == "AWS::SQS::Queue":
            return g.add(
                Node(
                    str(res.ref),
                    "queue",
                    f"SQS {_name(res)}",
                    ["FIFO" if p.get("FifoQueue") else "standard queue"],
                )
            )
        if t == "AWS::DynamoDB::Table":
            ttl = " + TTL" if (p.get("TimeToLiveSpecification") or {}).get("Enabled") else ""
            return g.add(
                Node(
                    str(res.ref),
                    "table",
                    f"DynamoDB {_name(res)}",
                    [f"{p.get('BillingMode', 'PROVISIONED').lower().replace('_', ' ')}{ttl}"],
                )
            )
        if t == "AWS::S3::Bucket":
            return g.add(Node(str(res.ref), "bucket", f"S3 {_name(res)}", ["encrypted bucket"]))
        if t == "AWS::SageMaker::Endpoint":
            return str(res.ref) if str(res.ref) in g.nodes else None
        return None

    # Endpoints first: every other box points at them.
    scaling: dict[ResourceRef, tuple[int, int]] = {}
    for target in asm.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
        for ref in asm.refs(target.ref.stack, target.properties.get("ResourceId")):
            scaling[ref] = (target.properties.get("MinCapacity"), target.properties.get("MaxCapacity"))
    endpoint_subnets: dict[str, set] = {}
    for ep in asm.resources("AWS::SageMaker::Endpoint"):
        config = asm.get(asm.ref_of(ep.ref.stack, ep.properties.get("EndpointConfigName")))
        variants = config.properties.get("ProductionVariants", []) if config else []
        lines = []
        for v in variants:
            count = v.get("InitialInstanceCount", 1)
            low, high = scaling.get(ep.ref, (count, count))
            managed = v.get("ManagedInstanceScaling")  # a shared endpoint (inference components)
            if managed:
                low, high = managed.get("MinInstanceCount", count), managed.get("MaxInstanceCount", count)
            lines.append(
                f"{v.get('InstanceType', 'serverless')} x {low if low == high else f'{low}..{high}'}"
            )
            model = asm.get(asm.ref_of(config.ref.stack, v.get("ModelName")))
            if model and model.properties.get("VpcConfig"):
                endpoint_subnets[str(ep.ref)] = {
                    _subnet_key(asm, model.ref.stack, s)
                    for s in model.properties["VpcConfig"].get("Subnets", [])
                }
        title, extra = endpoint_labels.get(ep.path, (f"Endpoint {_name(ep, ('Resource', 'Endpoint'))}", []))
        g.add(Node(str(ep.ref), "endpoint", title, extra + lines))
        capture = (config.properties.get("DataCaptureConfig") or {}) if config else {}
        for bucket in asm.refs(config.ref.stack, capture.get("DestinationS3Uri")) if capture else ():
            res = asm.get(bucket)
            if res and res.type == "AWS::S3::Bucket":
                g.link(str(ep.ref), node_for(res), "data capture")

    functions: list[Resource] = []
    for api in asm.resources("AWS::ApiGateway::RestApi"):
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
                    entry = g.add(Node(str(acl.ref), "waf", "WAF web ACL", _waf_lines(acl)))
                    g.link(entry, api_key)
        g.link(clients, entry)
        for m in methods:
            for ref in asm.refs(m.ref.stack, (m.properties.get("Integration") or {}).get("Uri")):
                fn = asm.get(ref)
                if fn and fn.type == "AWS::Lambda::Function":
                    g.link(api_key, node_for(fn), "proxy")
                    if fn not in functions:
                        functions.append(fn)

    for mapping in asm.resources("AWS::Lambda::EventSourceMapping"):
        source = asm.get(asm.ref_of(mapping.ref.stack, mapping.properties.get("EventSourceArn")))
        fn = asm.get(asm.ref_of(mapping.ref.stack, mapping.properties.get("FunctionName")))
        if source and fn and node_for(source):
            g.link(node_for(source), node_for(fn), "trigger")
            if fn not in functions:
                functions.append(fn)

    for fn in functions:
        key = str(fn.ref)
        for stack, st in _role_statements(asm, asm.ref_of(fn.ref.stack, fn.properties.get("Role"))):
            if st.get("Effect", "Allow") != "Allow":
                continue
            verbs = sorted({VERBS[a] for a in _list(st.get("Action")) if a in VERBS})
            if not verbs:
                continue
            for ref in asm.refs(stack, st.get("Resource")):
                target = asm.get(ref)
                if target is not None and (dst := node_for(target)):
                    g.link(key, dst, "/".join(verbs))

    for queue in asm.resources("AWS::SQS::Queue"):
        if str(queue.ref) not in g.nodes:
            continue
        redrive = queue.properties.get("RedrivePolicy") or {}
        dlq = asm.get(asm.ref_of(queue.ref.stack, redrive.get("deadLetterTargetArn")))
        if dlq:
            g.link(str(queue.ref), node_for(dlq), f"after {redrive.get('maxReceiveCount', '?')} tries")

    for domain in asm.resources("AWS::SageMaker::Domain"):
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
        for stack, st in _role_statements(asm, role):
            if any(str(a).startswith("sagemaker:InvokeEndpoint") for a in _list(st.get("Action"))):
                for ref in asm.refs(stack, st.get("Resource")):
                    if str(ref) in g.nodes and g.nodes[str(ref)].kind == "endpoint":
                        g.link(key, str(ref), "invoke")
        vpc_key = _vpc_key(asm, domain.ref.stack, p.get("VpcId"))
        if vpc_key:
            _vpc(asm, g, vpc_key).members.add(key)

    for ep_key, subnets in endpoint_subnets.items():
        for subnet in subnets:
            vpc_key = subnet[1] if subnet else None
            if vpc_key:
                _vpc(asm, g, vpc_key).members.add(ep_key)
    return g


def _waf_lines(acl: Resource) -> list[str]:
    lines = []
    for rule in acl.properties.get("Rules", []):
        rate = (rule.get("Statement") or {}).get("RateBasedStatement")
        if rate:
            window = rate.get("EvaluationWindowSec", 300)
            lines.append(
                f"rate limit {rate.get('Limit')}/{window // 60} min per {rate.get('AggregateKeyType', 'IP')}"
            )
        else:
            lines.append(rule.get("Name", "rule"))
    return lines or ["no rules"]


def _subnet_key(asm: Assembly, stack: str, value) -> tuple[str, str] | None:
    """(subnet, vpc key) for a subnet reference or an imported subnet id."""
    ref = asm.ref_of(stack, value)
    if ref is None:
        return (str(value), "imported") if isinstance(value, str) else None
    subnet = asm.get(ref)
    return (str(ref), _vpc_key(asm, ref.stack, subnet.properties.get("VpcId"))) if subnet else None


def _vpc_key(asm: Assembly, stack: str, value) -> str | None:
    if value is None:
        return None
    ref = asm.ref_of(stack, value)
    if ref is not None:
        return str(ref)
    return "imported" if isinstance(value, str) else None


def _vpc(asm: Assembly, g: Graph, key: str) -> Vpc:
    for vpc in g.vpcs:
        if vpc.key == key:
            return vpc
    if key == "imported":
        vpc = Vpc(key, "Imported VPC", ["subnets and endpoints managed outside this app"])
    else:
        stack, logical_id = key.split(":", 1)
        res = asm.resource(ResourceRef(stack, logical_id))
        subnets = [
            s
            for s in asm.resources("AWS::EC2::Subnet")
            if res.ref in asm.refs(s.ref.stack, s.properties.get("VpcId"))
        ]
        public = sum(1 for s in subnets if s.properties.get("MapPublicIpOnLaunch"))
        services = sorted(
            _service(asm.render(e.ref.stack, e.properties.get("ServiceName", "")))
            for e in asm.resources("AWS::EC2::VPCEndpoint")
            if res.ref in asm.refs(e.ref.stack, e.properties.get("VpcId"))
        )
        nats = sum(1 for _ in asm.resources("AWS::EC2::NatGateway"))
        lines = [
            f"{len(subnets) - public} private + {public} public subnets"
            + (f", {nats} NAT" if nats else ", no NAT")
        ]
        if services:
            lines.append("VPC endpoints: " + ", ".join(services))
        vpc = Vpc(key, f"VPC {res.properties.get('CidrBlock', '')}".strip(), lines)
    g.vpcs.append(vpc)
    return vpc


def _service(name: str) -> str:
    # "com.amazonaws.us-east-1.sagemaker.api" -> "sagemaker.api"; "aws.sagemaker.<region>.studio" -> "studio"
    parts = name.split(".")
    if name.startswith("com.amazonaws.") and len(parts) > 3:
        return ".".join(parts[3:])
    return parts[-1]


# -- layout and drawing ---------------------------------------------------------

BOX_W, BOX_H = 2.6, 1.05
COL_W, ROW_H = 3.4, 1.55
TITLE_CHAR, LINE_CHAR = 0.095, 0.072  # data units per character at the fonts below


def box_width(node: Node) -> float:
    widest = max([TITLE_CHAR * len(node.title)] + [LINE_CHAR * len(line) for line in node.lines[:3]])
    return max(BOX_W, widest + 0.35)


def layout(g: Graph) -> dict[str, tuple[float, float]]:
    """Grid positions (column, row) by role: the request path reads left to right,
    the async path below it, data stores at the bottom under their writers,
    Studio above the endpoints it may call."""
    kinds = {k: n.kind for k, n in g.nodes.items()}
    out_edges: dict[str, list[str]] = {}
    in_edges: dict[str, list[str]] = {}
    for e in g.edges:
        out_edges.setdefault(e.src, []).append(e.dst)
        in_edges.setdefault(e.dst, []).append(e.src)
    pos: dict[str, tuple[float, float]] = {}
    for key, kind in kinds.items():
        if kind in ("clients", "waf", "api"):
            pos[key] = ({"clients": 0, "waf": 1, "api": 2}[kind], 0)
    front = [
        k
        for k, kind in kinds.items()
        if kind == "function" and any(kinds.get(s) == "api" for s in in_edges.get(k, []))
    ]
    for i, key in enumerate(front):
        pos[key] = (3, i)
    last = max(len(front) - 1, 0)
    queues = [
        k
        for k, kind in kinds.items()
        if kind == "queue" and any(kinds.get(d) == "function" for d in out_edges.get(k, []))
    ]
    for i, key in enumerate(queues):
        row = last + 1.25 + i
        pos[key] = (3.6, row)
        for dst in out_edges.get(key, []):
            if kinds.get(dst) == "function" and dst not in pos:
                pos[dst] = (4.75, row)
        for dst in out_edges.get(key, []):
            if kinds.get(dst) == "queue" and dst not in pos:  # its dead-letter queue
                pos[dst] = (2.45, row)
    if queues:
        last = max(r for _, r in pos.values())
    for key, kind in kinds.items():
        if key not in pos and kind in ("function", "queue"):
            last += 1
            pos[key] = (4.75, last)
    endpoints = [k for k, kind in kinds.items() if kind == "endpoint"]
    first = last / 2 - (len(endpoints) - 1) / 2
    for i, key in enumerate(endpoints):
        pos[key] = (6.0, first + i)
    for key, kind in kinds.items():
        if kind == "studio":
            pos[key] = (6.0, min(first, 0) - 1.35)
    bottom = max([r for _, r in pos.values()] + [0]) + 1.3
    if len(endpoints) > 1:
        # Arrows down from stacked endpoints would cross the ones below: put stores
        # only endpoints write to (data capture) to the right of the column instead.
        widest = max(box_width(g.nodes[k]) for k in endpoints)
        side = [
            k
            for k, kind in kinds.items()
            if kind in STORE_KINDS
            and in_edges.get(k)
            and all(kinds.get(s) == "endpoint" for s in in_edges[k])
        ]
        for i, key in enumerate(side):
            x = 6.0 + (widest + box_width(g.nodes[key])) / 2 / COL_W + 0.3
            pos[key] = (x, first + (len(endpoints) - 1) / 2 + i - (len(side) - 1) / 2)
    # Each store goes under the mean column of its writers, then the row is spread
    # so that no two boxes overlap.
    stores = sorted(
        (
            sum(pos[s][0] for s in in_edges.get(k, []) if s in pos)
            / max(1, sum(1 for s in in_edges.get(k, []) if s in pos)),
            k,
        )
        for k, kind in kinds.items()
        if kind in STORE_KINDS and k not in pos
    )
    placed: list[tuple[float, str]] = []
    for x, key in stores:
        if placed:
            prev_x, prev = placed[-1]
            gap = (box_width(g.nodes[prev]) + box_width(g.nodes[key])) / 2 / COL_W + 0.08
            x = max(x, prev_x + gap)
        placed.append((x, key))
    shift = max(0.0, placed[-1][0] - 6.0) if placed else 0.0
    for x, key in placed:
        pos[key] = (x - shift, bottom)
    return pos


def _bezier(p0, p2, rad):
    """Points along matplotlib's arc3 curve between p0 and p2 (data coords, y down)."""
    (x1, y1), (x2, y2) = p0, p2
    # arc3 works in display space, where y points up: flip, bend, flip back.
    dx, dy = x2 - x1, -(y2 - y1)
    cx, cy = (x1 + x2) / 2 + rad * dy, -((-(y1 + y2) / 2) - rad * dx)
    return [
        (
            (1 - t) ** 2 * x1 + 2 * (1 - t) * t * cx + t**2 * x2,
            (1 - t) ** 2 * y1 + 2 * (1 - t) * t * cy + t**2 * y2,
        )
        for t in (i / 20 for i in range(1, 20))
    ]


def _route(p0, p2, obstacles, straight: bool = True) -> float:
    """The smallest arc3 bend whose curve misses every other box (never straight
    when an arrow runs the other way between the same boxes: they would overlap)."""
    best, fewest = 0.0, None
    bends = (0.2, -0.2, 0.35, -0.35, 0.5, -0.5, 0.7, -0.7, 0.9, -0.9)
    for rad in ((0.0,) if straight else ()) + bends:
        hits = sum(1 for point in _bezier(p0, p2, rad) for box in obstacles if _inside(point, box))
        if hits == 0:
            return rad
        if fewest is None or hits < fewest:
            best, fewest = rad, hits
    return best


def draw(
    assembly: Path | str, out: Path, report: dict | None = None, stem: str = "architecture"
) -> list[Path]:
    """Write `<stem>.png` and `<stem>.svg` into `out`; returns the two paths."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    asm = Assembly(assembly)
    labels = {}
    if report:
        for e in report.get("endpoints", []):
            model = f"{e['model_id']}@{e['model_version']}" if e.get("model_id") else ""
            if e.get("components"):  # a shared endpoint: its models, one inference component each
                labels[e["path"]] = (f"Shared endpoint {e['name']}",
                                     [", ".join(f"{c['name']} x {c['copies']['min']}..{c['copies']['max']}"
                                                for c in e["components"])])
                continue
            labels[e["path"]] = (f"Endpoint {e['name']}", [model] if model else [])
    g = derive(asm, labels)
    if report:
        d = report["deployment"]
        g.title = f"{d['project']} in {d['region']} (config {Path(d['config']).name}), generated from the cloud assembly by tools.report"
    pos = layout(g)
    centre = {k: (c * COL_W, r * ROW_H) for k, (c, r) in pos.items()}
    boxes = {
        k: (x - box_width(g.nodes[k]) / 2, y - BOX_H / 2, x + box_width(g.nodes[k]) / 2, y + BOX_H / 2)
        for k, (x, y) in centre.items()
    }

    vpc_frames = []
    for vpc in g.vpcs:
        members = [boxes[m] for m in vpc.members if m in boxes]
        if not members:
            continue
        left, right = min(b[0] for b in members) - 0.35, max(b[2] for b in members) + 0.35
        chars = int((right - left - 0.3) / 0.068)
        lines = [w for line in vpc.lines for w in textwrap.wrap(line, chars)]
        top = min(b[1] for b in members) - 0.45 - 0.25 * (len(lines) + 1)
        bottom = max(b[3] for b in members) + 0.3
        vpc_frames.append((vpc, lines, (left, top, right, bottom)))

    extents = list(boxes.values()) + [f for _, _, f in vpc_frames]
    x0, x1 = min(e[0] for e in extents) - 0.3, max(e[2] for e in extents) + 0.3
    y0, y1 = min(e[1] for e in extents) - 0.8, max(e[3] for e in extents) + 0.3
    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "fm-platform", "font.family": "DejaVu Sans"})
    fig = plt.figure(figsize=((x1 - x0) * 0.75, (y1 - y0) * 0.75))
    ax = fig.add_axes((0, 0, 1, 1))  # equal scale on both axes keeps _route honest
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)  # rows grow downwards
    ax.axis("off")

    for vpc, lines, (left, top, right, bottom) in vpc_frames:
        ax.add_patch(
            FancyBboxPatch(
                (left, top),
                right - left,
                bottom - top,
                boxstyle="round,pad=0.02,rounding_size=0.15",
                fill=False,
                linestyle="--",
                edgecolor="#2e7d32",
                linewidth=1.2,
            )
        )
        ax.text(
            left + 0.15, top + 0.28, vpc.title, fontsize=9, fontweight="bold", color="#2e7d32", va="center"
        )
        for i, line in enumerate(lines):
            ax.text(left + 0.15, top + 0.55 + 0.25 * i, line, fontsize=6.5, color="#2e7d32", va="center")

    patches = {}
    for key, (left, top, right, bottom) in boxes.items():
        node = g.nodes[key]
        cx, cy = (left + right) / 2, (top + bottom) / 2
        patch = FancyBboxPatch(
            (left, top),
            right - left,
            bottom - top,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=COLOURS.get(node.kind, "#ffffff"),
            edgecolor="#455a64",
            linewidth=1.0,
            zorder=2,
        )
        ax.add_patch(patch)
        patches[key] = patch
        lines = node.lines[:3]
        offset = 0.15 * len(lines)
        ax.text(
            cx, cy - offset, node.title, ha="center", va="center", fontsize=8.5, fontweight="bold", zorder=3
        )
        for i, line in enumerate(lines):
            ax.text(
                cx,
                cy - offset + 0.29 * (i + 1),
                line,
                ha="center",
                va="center",
                fontsize=6.8,
                color="#263238",
                zorder=3,
            )

    placed: list[tuple[float, float, float]] = []  # labels so far: x, y, half width
    pending: list[tuple[str, list]] = []
    for edge in g.edges:
        if edge.src not in centre or edge.dst not in centre:
            continue
        p0, p2 = centre[edge.src], centre[edge.dst]
        others = [
            (left - 0.1, top - 0.1, right + 0.1, bottom + 0.1)
            for k, (left, top, right, bottom) in boxes.items()
            if k not in (edge.src, edge.dst)
        ]
        reverse = any(e.src == edge.dst and e.dst == edge.src for e in g.edges)
        # Same positive bend both ways puts the two arrows on opposite sides.
        rad = _route(p0, p2, others, straight=not reverse)
        ax.add_patch(
            FancyArrowPatch(
                p0,
                p2,
                patchA=patches[edge.src],
                patchB=patches[edge.dst],
                arrowstyle="-|>",
                mutation_scale=11,
                linewidth=1.0,
                color="#37474f",
                connectionstyle=f"arc3,rad={rad}",
                zorder=1,
            )
        )
        if edge.label:
            pending.append((edge.label, _bezier(p0, p2, rad)))
    # Short arrows have the fewest free spots for a label: place theirs first.
    pending.sort(key=lambda item: _length(item[1]))
    for label, curve in pending:
        lx, ly = _label_spot(curve, list(boxes.values()), placed)
        placed.append((lx, ly, 0.045 * len(label) + 0.2))
        ax.text(
            lx,
            ly,
            label,
            fontsize=6.2,
            ha="center",
            va="center",
            color="#37474f",
            zorder=4,
            bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.9},
        )
    if g.title:
        ax.text(x0 + 0.2, y0 + 0.35, g.title, fontsize=9, color="#546e7a", va="center")

    out.mkdir(parents=True, exist_ok=True)
    png, svg = out / f"{stem}.png", out / f"{stem}.svg"
    fig.savefig(png, dpi=110, metadata={"Software": None})
    fig.savefig(svg, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return [png, svg]


def _label_spot(curve, boxes, placed) -> tuple[float, float]:
    """The point nearest the curve's middle that is off every box and clear of other labels."""
    free = [p for p in curve if not any(_inside(p, b) for b in boxes)] or curve
    middle = len(free) // 2
    for p in sorted(free, key=lambda p: abs(free.index(p) - middle)):
        if all(abs(p[0] - x) > w + 0.3 or abs(p[1] - y) > 0.3 for x, y, w in placed):
            return p
    return free[middle]


def _length(curve) -> float:
    return sum(
        ((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 for a, b in zip(curve, curve[1:], strict=False)
    )


def _inside(point, box) -> bool:
    x, y = point
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.report.diagram", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--assembly", default="cdk.out", type=Path)
    parser.add_argument("--out", default=None, type=Path)
    args = parser.parse_args(argv)
    for path in draw(args.assembly, args.out or args.assembly / "report"):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
