"""What one resource looks like as a box: its name, its kind and the lines under its title."""

from __future__ import annotations

from tools.report.assembly import Resource
from tools.report.diagram.graph import Graph, Node

GENERIC_NAMES = {"Queue", "Table", "Bucket", "Handler", "Worker", "Topic", "Api"}


def name(resource: Resource, skip: tuple[str, ...] = ("Resource", "Default", "Bucket", "Function")) -> str:
    """The construct's own name, with its parent's when the name alone says little:
    `Api/FrontDoor/Jobs/Worker/Function/Resource` -> `Jobs Worker`."""
    parts = [p for p in resource.path.split("/")[1:] if p not in skip]
    if not parts:
        return resource.ref.logical_id
    if parts[-1] in GENERIC_NAMES and len(parts) > 1:
        return f"{parts[-2]} {parts[-1]}"
    return parts[-1]


def resource_node(g: Graph, res: Resource) -> str | None:
    """The key of the resource's box, added to `g` on first sight: functions, queues, tables
    and buckets; an endpoint only once it has its box (endpoints are added first); None for
    anything else."""
    t, p = res.type, res.properties
    if t == "AWS::Lambda::Function":
        mem = p.get("MemorySize", 128)
        arch = "/".join(p.get("Architectures", ["x86_64"]))
        return g.add(
            Node(
                str(res.ref),
                "function",
                f"Lambda {name(res)}",
                [f"{p.get('Runtime', 'container')}, {arch}, {mem} MB"],
            )
        )
    if t == "AWS::SQS::Queue":
        return g.add(
            Node(
                str(res.ref),
                "queue",
                f"SQS {name(res)}",
                ["FIFO" if p.get("FifoQueue") else "standard queue"],
            )
        )
    if t == "AWS::DynamoDB::Table":
        ttl = " + TTL" if (p.get("TimeToLiveSpecification") or {}).get("Enabled") else ""
        return g.add(
            Node(
                str(res.ref),
                "table",
                f"DynamoDB {name(res)}",
                [f"{p.get('BillingMode', 'PROVISIONED').lower().replace('_', ' ')}{ttl}"],
            )
        )
    if t == "AWS::S3::Bucket":
        return g.add(Node(str(res.ref), "bucket", f"S3 {name(res)}", ["encrypted bucket"]))
    if t == "AWS::SageMaker::Endpoint":
        return str(res.ref) if str(res.ref) in g.nodes else None
    return None


def waf_lines(acl: Resource) -> list[str]:
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
