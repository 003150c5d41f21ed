"""The VPC frames of the picture: which VPC a subnet or a domain is in, and what the frame says."""

from __future__ import annotations

from tools.report.assembly import Assembly, ResourceRef
from tools.report.diagram.graph import Graph, Vpc


def subnet_key(asm: Assembly, stack: str, value) -> tuple[str, str] | None:
    """(subnet, vpc key) for a subnet reference or an imported subnet id."""
    ref = asm.ref_of(stack, value)
    if ref is None:
        return (str(value), "imported") if isinstance(value, str) else None
    subnet = asm.get(ref)
    return (str(ref), vpc_key(asm, ref.stack, subnet.properties.get("VpcId"))) if subnet else None


def vpc_key(asm: Assembly, stack: str, value) -> str | None:
    if value is None:
        return None
    ref = asm.ref_of(stack, value)
    if ref is not None:
        return str(ref)
    return "imported" if isinstance(value, str) else None


def vpc_frame(asm: Assembly, g: Graph, key: str) -> Vpc:
    """The graph's frame for the VPC `key` (from vpc_key), added on first use."""
    for vpc in g.vpcs:
        if vpc.key == key:
            return vpc
    if key == "imported":
        vpc = Vpc(key, "Imported VPC", ["subnets and endpoints managed outside this app"])
    else:
        stack, logical_id = key.split(":", 1)
        res = asm.resource(ResourceRef(stack, logical_id))
        vpc = Vpc(key, f"VPC {res.properties.get('CidrBlock', '')}".strip(), _created_vpc_lines(asm, res.ref))
    g.vpcs.append(vpc)
    return vpc


def _created_vpc_lines(asm: Assembly, vpc: ResourceRef) -> list[str]:
    """Subnets, NAT gateways and VPC endpoints of a VPC the app creates."""
    subnets = [
        s
        for s in asm.resources("AWS::EC2::Subnet")
        if vpc in asm.refs(s.ref.stack, s.properties.get("VpcId"))
    ]
    public = sum(1 for s in subnets if s.properties.get("MapPublicIpOnLaunch"))
    services = sorted(
        _service(asm.render(e.ref.stack, e.properties.get("ServiceName", "")))
        for e in asm.resources("AWS::EC2::VPCEndpoint")
        if vpc in asm.refs(e.ref.stack, e.properties.get("VpcId"))
    )
    nats = sum(1 for _ in asm.resources("AWS::EC2::NatGateway"))
    lines = [
        f"{len(subnets) - public} private + {public} public subnets"
        + (f", {nats} NAT" if nats else ", no NAT")
    ]
    if services:
        lines.append("VPC endpoints: " + ", ".join(services))
    return lines


def _service(name: str) -> str:
    # "com.amazonaws.us-east-1.sagemaker.api" -> "sagemaker.api"; "aws.sagemaker.<region>.studio" -> "studio"
    parts = name.split(".")
    if name.startswith("com.amazonaws.") and len(parts) > 3:
        return ".".join(parts[3:])
    return parts[-1]
