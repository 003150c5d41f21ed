"""The review report's content, as plain data (written as JSON and rendered as Markdown).

Sections: stacks (resources by type), endpoints (model, instance, count range,
GPU-memory fit, cost at min and max scale), IAM roles (every action on every
resource), public surfaces (with their auth), cdk-nag acknowledgments and
scanner skips recorded in resource metadata.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from stacks import catalog
from stacks.config import load_config
from stacks.jumpstart import ResolvedEndpoint, resolve_endpoints
from stacks.scanner import checkov_skips
from stacks.shared_endpoints import ResolvedSharedEndpoint, resolve_shared_endpoints
from tools.report.assembly import Assembly, Resource, ResourceRef

OPEN_CIDRS = ("0.0.0.0/0", "::/0")


# -- stacks -------------------------------------------------------------------


def stacks_section(asm: Assembly) -> list[dict]:
    rows = []
    for stack in asm.stacks.values():
        types = Counter(r["Type"] for r in stack.resources.values() if r["Type"] != "AWS::CDK::Metadata")
        rows.append(
            {
                "id": stack.id,
                "name": stack.name,
                "region": stack.region,
                "resource_count": sum(types.values()),
                "resources_by_type": dict(sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))),
            }
        )
    return rows


# -- endpoints ----------------------------------------------------------------


def endpoint_facts(asm: Assembly) -> list[dict]:
    """What the templates say about each SageMaker endpoint: instance type and
    count range (from its endpoint config and scalable target)."""
    scaling: dict[ResourceRef, tuple[int, int]] = {}
    for target in asm.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
        if target.properties.get("ServiceNamespace") != "sagemaker":
            continue
        for ref in asm.refs(target.ref.stack, target.properties.get("ResourceId")):
            scaling[ref] = (int(target.properties["MinCapacity"]), int(target.properties["MaxCapacity"]))
    found = []
    for endpoint in asm.resources("AWS::SageMaker::Endpoint"):
        config = asm.get(asm.ref_of(endpoint.ref.stack, endpoint.properties.get("EndpointConfigName")))
        if config is None:
            continue
        for variant in config.properties.get("ProductionVariants", []):
            count = int(variant.get("InitialInstanceCount", 1))
            low, high = scaling.get(endpoint.ref, (count, count))
            model = asm.get(asm.ref_of(config.ref.stack, variant.get("ModelName")))
            # A shared endpoint (inference components): managed instance scaling sets the instance
            # range, the models are the ICs on it, and the construct sits one level further up.
            managed = variant.get("ManagedInstanceScaling")
            if managed:
                low, high = int(managed.get("MinInstanceCount", count)), int(managed.get("MaxInstanceCount", count))
            parts = endpoint.path.split("/")
            found.append(
                {
                    "ref": endpoint.ref,
                    "path": endpoint.path,
                    "construct": parts[-3 if managed else -2] if len(parts) > 2 else endpoint.path,
                    "shared": bool(managed),
                    "variant": variant.get("VariantName"),
                    "instance_type": variant.get("InstanceType"),
                    "initial_count": count,
                    "min_count": low,
                    "max_count": high,
                    "serverless": "ServerlessConfig" in variant,
                    "image": (
                        (model.properties.get("PrimaryContainer") or {}).get("Image") if model else None
                    ),
                    "in_vpc": bool(model and model.properties.get("VpcConfig") or config.properties.get("VpcConfig")),
                    "network_isolation": bool(
                        model and model.properties.get("EnableNetworkIsolation")
                        or config.properties.get("EnableNetworkIsolation")
                    ),
                    "components": sorted(
                        asm.render(ic.ref.stack, ic.properties.get("InferenceComponentName"))
                        for ic in asm.resources("AWS::SageMaker::InferenceComponent")
                        if asm.ref_of(ic.ref.stack, ic.properties.get("EndpointName")) == endpoint.ref
                    ),
                }
            )
    return found


_money = catalog.usd


def _cost(per_hour: float, low: int, high: int) -> dict:
    return {
        "usd_per_instance_hour": per_hour,
        "min": {"usd_per_hour": round(per_hour * low, 4), "usd_per_month": round(per_hour * low * catalog.HOURS_PER_MONTH, 2)},
        "max": {"usd_per_hour": round(per_hour * high, 4), "usd_per_month": round(per_hour * high * catalog.HOURS_PER_MONTH, 2)},
    }


def shared_endpoint_row(ep: dict, s: ResolvedSharedEndpoint | None, warnings: list[str]) -> dict:
    """A shared endpoint: the instance range from its managed instance scaling, each model's
    inference component (GPU fit per copy, copies, cost share by GPUs at min and max), and
    the same models on classic endpoints for comparison."""
    row: dict[str, Any] = {
        "name": s.name if s else ep["construct"],
        "stack": ep["ref"].stack,
        "path": ep["path"],
        "shared": True,
        "model_id": None,
        "model_version": None,
        "instance_type": ep["instance_type"],
        "count": {"initial": ep["initial_count"], "min": ep["min_count"], "max": ep["max_count"]},
        "in_vpc": ep["in_vpc"],
        "network_isolation": ep["network_isolation"],
    }
    if s is None:
        warnings.append(f"shared endpoint {ep['path']} matches none of the config: was the assembly synthesized from another config?")
        return row
    expected = sorted(c.component_name for c in s.components)
    if ep["components"] != expected or (ep["min_count"], ep["max_count"]) != (s.min_instances, s.max_instances):
        warnings.append(f"shared endpoint {s.name}: the assembly differs from the config; synthesize again")
    i, headroom = s.instance, catalog.models().memory_headroom
    row["gpu"] = {"gpus": i.gpus, "gpu": i.gpu, "total_gib": i.total_gpu_memory_gib}
    row["cost"] = _cost(i.usd_per_hour, ep["min_count"], ep["max_count"])
    row["components"] = [
        {
            "name": c.name,
            "model_id": c.model_id,
            "model_version": c.model_version,
            "inference_component": c.component_name,
            "accelerators": c.accelerators,
            "memory_mib": c.memory_mib,
            "copies": {"min": c.min_copies, "max": c.max_copies},
            "gpu": {
                "weights_gib": round(c.weights_gib, 2),
                "needed_gib": round(c.weights_gib * headroom, 2),
                "copy_gib": c.accelerators * i.gpu_memory_gib,
                "fits": c.weights_gib * headroom <= c.accelerators * i.gpu_memory_gib,
                "jumpstart_instance": c.reference_instance_type,
            },
            "share_usd_per_hour": {scale: round(s.share_usd_per_hour(c, scale), 4) for scale in ("min", "max")},
            "classic": {"instance_type": c.classic_instance_type, "usd_per_hour": c.classic_usd_per_hour},
        }
        for c in s.components
    ]
    classic = s.classic_usd_per_hour
    if classic is not None:
        row["classic_comparison"] = {
            "usd_per_hour": round(classic, 4),
            "usd_per_month": round(classic * catalog.HOURS_PER_MONTH, 2),
            "saving_at_min_usd_per_month": round((classic - s.usd_per_hour_min) * catalog.HOURS_PER_MONTH, 2),
            "saving_at_max_usd_per_month": round((classic - s.usd_per_hour_max) * catalog.HOURS_PER_MONTH, 2),
            "break_even_fraction_at_max": round(s.break_even_fraction, 4) if s.break_even_fraction is not None else None,
        }
    return row


def endpoints_section(
    asm: Assembly, resolved: list[ResolvedEndpoint], shared: list[ResolvedSharedEndpoint] | None = None
) -> tuple[list[dict], list[str]]:
    facts = catalog.instances()
    models = catalog.models()
    by_construct = {r.construct_id: r for r in resolved}
    shared_by_construct = {s.construct_id: s for s in shared or []}
    rows, warnings = [], []
    for ep in endpoint_facts(asm):
        if ep["shared"]:
            rows.append(shared_endpoint_row(ep, shared_by_construct.get(ep["construct"]), warnings))
            continue
        r = by_construct.get(ep["construct"])
        instance = facts.instances.get(ep["instance_type"])
        row: dict[str, Any] = {
            "name": r.name if r else ep["construct"],
            "stack": ep["ref"].stack,
            "path": ep["path"],
            "model_id": r.model_id if r else None,
            "model_version": r.model_version if r else None,
            "instance_type": ep["instance_type"],
            "count": {"initial": ep["initial_count"], "min": ep["min_count"], "max": ep["max_count"]},
            "in_vpc": ep["in_vpc"],
            "network_isolation": ep["network_isolation"],
        }
        if r is None:
            warnings.append(
                f"endpoint {ep['path']} matches no endpoint of the config: was the assembly "
                "synthesized from another config?"
            )
        elif r.instance_type != ep["instance_type"]:
            warnings.append(
                f"endpoint {r.name}: the config says {r.instance_type}, the assembly {ep['instance_type']}; "
                "synthesize again"
            )
        if instance is not None:
            row["gpu"] = {
                "gpus": instance.gpus,
                "gpu": instance.gpu,
                "total_gib": instance.total_gpu_memory_gib,
            }
            if r is not None and r.weights_gib is not None:  # None: a Marketplace package, weights unpublished
                need = r.weights_gib * models.memory_headroom
                row["gpu"].update(
                    {
                        "weights_gib": round(r.weights_gib, 2),
                        "needed_gib": round(need, 2),
                        "headroom_gib": round(instance.total_gpu_memory_gib - r.weights_gib, 2),
                        "weights_share": round(r.weights_gib / instance.total_gpu_memory_gib, 3),
                        "rule": f"bf16 weights x {models.memory_headroom} <= total GPU memory",
                        "fits": need <= instance.total_gpu_memory_gib,
                    }
                )
            per_hour = instance.usd_per_hour
            row["cost"] = {
                "usd_per_instance_hour": per_hour,
                "min": {
                    "usd_per_hour": round(per_hour * ep["min_count"], 4),
                    "usd_per_month": round(per_hour * ep["min_count"] * catalog.HOURS_PER_MONTH, 2),
                },
                "max": {
                    "usd_per_hour": round(per_hour * ep["max_count"], 4),
                    "usd_per_month": round(per_hour * ep["max_count"] * catalog.HOURS_PER_MONTH, 2),
                },
            }
        else:
            warnings.append(f"no pinned price for {ep['instance_type']} (config/catalog/instances.yaml)")
        rows.append(row)
    return rows, warnings


def pricing_section(asm: Assembly, region: str) -> dict:
    facts = catalog.instances()
    return {
        "source": facts.source,
        "pinned": facts.pinned,
        "price_region": facts.price_region,
        "deployment_region": region,
        "hours_per_month": catalog.HOURS_PER_MONTH,
        "region_differs": region != facts.price_region,
    }


# -- IAM ----------------------------------------------------------------------


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _statements(asm: Assembly, stack: str, document: dict | None, source: str) -> list[dict]:
    out = []
    for st in _as_list((document or {}).get("Statement")):
        entry = {
            "source": source,
            "sid": st.get("Sid"),
            "effect": st.get("Effect", "Allow"),
            "actions": sorted(asm.render(stack, a) for a in _as_list(st.get("Action"))),
            "resources": [asm.render(stack, r) for r in _as_list(st.get("Resource"))],
        }
        if "NotAction" in st:
            entry["not_actions"] = sorted(asm.render(stack, a) for a in _as_list(st["NotAction"]))
        if "NotResource" in st:
            entry["not_resources"] = [asm.render(stack, r) for r in _as_list(st["NotResource"])]
        if "Condition" in st:
            entry["condition"] = _render_tree(asm, stack, st["Condition"])
        out.append(entry)
    return out


def _render_tree(asm: Assembly, stack: str, node: Any) -> Any:
    if isinstance(node, dict):
        if len(node) == 1 and next(iter(node)).startswith(("Fn::", "Ref")):
            return asm.render(stack, node)
        return {k: _render_tree(asm, stack, v) for k, v in node.items()}
    if isinstance(node, list):
        return [_render_tree(asm, stack, v) for v in node]
    return node


def _principals(document: dict | None) -> list[str]:
    found = []
    for st in _as_list((document or {}).get("Statement")):
        principal = st.get("Principal")
        if principal == "*":
            found.append("*")
        elif isinstance(principal, dict):
            for kind, values in principal.items():
                found += [f"{kind}: {v}" for v in _as_list(values)]
    return found


def roles_section(asm: Assembly) -> list[dict]:
    attached: dict[ResourceRef, list[Resource]] = {}
    for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in asm.resources(kind):
            for ref in asm.refs(policy.ref.stack, policy.properties.get("Roles")):
                attached.setdefault(ref, []).append(policy)
    for policy in asm.resources("AWS::IAM::RolePolicy"):
        ref = asm.ref_of(policy.ref.stack, policy.properties.get("RoleName"))
        if ref:
            attached.setdefault(ref, []).append(policy)

    roles = []
    for role in asm.resources("AWS::IAM::Role"):
        stack, props = role.ref.stack, role.properties
        statements, aws_managed = [], []
        for inline in props.get("Policies", []):
            statements += _statements(
                asm, stack, inline.get("PolicyDocument"), f"inline {inline.get('PolicyName')}"
            )
        policies = list(attached.get(role.ref, []))
        for arn in props.get("ManagedPolicyArns", []):
            target = asm.get(asm.ref_of(stack, arn))
            if target is not None and target.type == "AWS::IAM::ManagedPolicy":
                if target not in policies:
                    policies.append(target)
            else:
                aws_managed.append(asm.render(stack, arn))
        for policy in policies:
            statements += _statements(
                asm,
                policy.ref.stack,
                policy.properties.get("PolicyDocument"),
                f"{policy.type.split('::')[-1]} {policy.path}",
            )
        roles.append(
            {
                "stack": stack,
                "logical_id": role.ref.logical_id,
                "path": role.path,
                "description": props.get("Description"),
                "trusted": _principals(props.get("AssumeRolePolicyDocument")),
                "aws_managed_policies": aws_managed,
                "permissions_boundary": asm.render(stack, props["PermissionsBoundary"])
                if "PermissionsBoundary" in props
                else None,
                "statements": statements,
            }
        )
    return roles


# -- public surfaces ------------------------------------------------------------


def _api_paths(asm: Assembly, api: Resource) -> dict[ResourceRef, str]:
    """ApiGateway::Resource -> its full path, following ParentId up to the root."""
    nodes = {
        r.ref: r
        for r in asm.resources("AWS::ApiGateway::Resource")
        if asm.ref_of(r.ref.stack, r.properties.get("RestApiId")) == api.ref
    }
    paths: dict[ResourceRef, str] = {}

    def path_of(ref: ResourceRef) -> str:
        if ref not in paths:
            node = nodes[ref]
            parent = asm.ref_of(node.ref.stack, node.properties.get("ParentId"))
            prefix = path_of(parent) if parent in nodes else ""
            paths[ref] = f"{prefix}/{node.properties.get('PathPart')}"
        return paths[ref]

    for ref in nodes:
        path_of(ref)
    return paths


def _is_public_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(v == "*" or (isinstance(v, list) and "*" in v) for v in principal.values())
    return False


def _open_policy_statements(document: dict | None) -> list[dict]:
    return [
        st
        for st in _as_list((document or {}).get("Statement"))
        if st.get("Effect") == "Allow"
        and _is_public_principal(st.get("Principal"))
        and not st.get("Condition")
    ]


def public_surfaces(asm: Assembly) -> list[dict]:
    surfaces: list[dict] = []
    waf_targets = {
        ref: assoc
        for assoc in asm.resources("AWS::WAFv2::WebACLAssociation")
        for ref in asm.refs(assoc.ref.stack, assoc.properties.get("ResourceArn"))
    }

    for api in asm.resources("AWS::ApiGateway::RestApi"):
        types = (api.properties.get("EndpointConfiguration") or {}).get("Types") or ["EDGE"]
        paths = _api_paths(asm, api)
        methods = []
        for m in asm.resources("AWS::ApiGateway::Method"):
            if asm.ref_of(m.ref.stack, m.properties.get("RestApiId")) != api.ref:
                continue
            resource = asm.ref_of(m.ref.stack, m.properties.get("ResourceId"))
            methods.append(
                {
                    "method": m.properties.get("HttpMethod"),
                    "path": paths.get(resource, "/"),
                    "authorization": m.properties.get("AuthorizationType", "NONE"),
                    "authorizer": asm.render(m.ref.stack, m.properties["AuthorizerId"])
                    if "AuthorizerId" in m.properties
                    else None,
                    "api_key_required": bool(m.properties.get("ApiKeyRequired")),
                }
            )
        methods.sort(key=lambda x: (x["path"], x["method"]))
        surfaces.append(
            {
                "kind": "API Gateway REST API",
                "stack": api.ref.stack,
                "path": api.path,
                "public": "PRIVATE" not in types,
                "endpoint_types": types,
                "waf": api.ref in waf_targets,
                "auth": sorted({m["authorization"] for m in methods}),
                "methods": methods,
            }
        )

    for api in asm.resources("AWS::ApiGatewayV2::Api"):
        routes = [
            {
                "route": r.properties.get("RouteKey"),
                "authorization": r.properties.get("AuthorizationType", "NONE"),
            }
            for r in asm.resources("AWS::ApiGatewayV2::Route")
            if asm.ref_of(r.ref.stack, r.properties.get("ApiId")) == api.ref
        ]
        surfaces.append(
            {
                "kind": f"API Gateway {api.properties.get('ProtocolType', 'HTTP')} API",
                "stack": api.ref.stack,
                "path": api.path,
                "public": True,
                "auth": sorted({r["authorization"] for r in routes}),
                "methods": routes,
            }
        )

    for url in asm.resources("AWS::Lambda::Url"):
        surfaces.append(_surface("Lambda function URL", url, [url.properties.get("AuthType", "NONE")]))
    for perm in asm.resources("AWS::Lambda::Permission"):
        if perm.properties.get("Principal") == "*" and not perm.properties.get("SourceArn"):
            surfaces.append(_surface("Lambda invoke permission for any principal", perm, ["NONE"]))

    for bucket in asm.resources("AWS::S3::Bucket"):
        block = bucket.properties.get("PublicAccessBlockConfiguration") or {}
        flags = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        if not all(block.get(f) for f in flags) or "WebsiteConfiguration" in bucket.properties:
            surfaces.append(_surface("S3 bucket without a full public access block", bucket, ["NONE"]))
    for kind in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
        for policy in asm.resources(kind):
            if _open_policy_statements(policy.properties.get("PolicyDocument")):
                surfaces.append(
                    _surface(f"{kind.split('::')[1]} policy allowing any principal", policy, ["NONE"])
                )

    for sg in asm.resources("AWS::EC2::SecurityGroup"):
        for rule in sg.properties.get("SecurityGroupIngress", []):
            if rule.get("CidrIp") in OPEN_CIDRS or rule.get("CidrIpv6") in OPEN_CIDRS:
                surfaces.append(
                    _surface(f"security group open to the internet ({_ports(rule)})", sg, ["NONE"])
                )
    for rule in asm.resources("AWS::EC2::SecurityGroupIngress"):
        if rule.properties.get("CidrIp") in OPEN_CIDRS or rule.properties.get("CidrIpv6") in OPEN_CIDRS:
            surfaces.append(
                _surface(f"security group open to the internet ({_ports(rule.properties)})", rule, ["NONE"])
            )
    for subnet in asm.resources("AWS::EC2::Subnet"):
        if subnet.properties.get("MapPublicIpOnLaunch"):
            surfaces.append(_surface("subnet assigning public IPs", subnet, ["n/a"]))
    for lb in asm.resources("AWS::ElasticLoadBalancingV2::LoadBalancer"):
        if lb.properties.get("Scheme", "internet-facing") == "internet-facing":
            surfaces.append(_surface("internet-facing load balancer", lb, ["see listeners"]))
    for dist in asm.resources("AWS::CloudFront::Distribution"):
        surfaces.append(_surface("CloudFront distribution", dist, ["see behaviors"]))
    for domain in asm.resources("AWS::SageMaker::Domain"):
        if domain.properties.get("AppNetworkAccessType", "PublicInternetOnly") == "PublicInternetOnly":
            surfaces.append(
                _surface(
                    "SageMaker Studio domain with public internet access",
                    domain,
                    [domain.properties.get("AuthMode", "?")],
                )
            )
    for nb in asm.resources("AWS::SageMaker::NotebookInstance"):
        if nb.properties.get("DirectInternetAccess", "Enabled") == "Enabled":
            surfaces.append(_surface("SageMaker notebook with direct internet access", nb, ["IAM"]))
    return surfaces


def _surface(kind: str, resource: Resource, auth: list[str]) -> dict:
    return {"kind": kind, "stack": resource.ref.stack, "path": resource.path, "public": True, "auth": auth}


def _ports(rule: dict) -> str:
    low, high = rule.get("FromPort"), rule.get("ToPort")
    proto = rule.get("IpProtocol", "?")
    return f"{proto} {low}" if low == high else f"{proto} {low}-{high}"


# -- acknowledgments and scanner skips --------------------------------------------


def acknowledgments_section(asm: Assembly) -> list[dict]:
    """cdk-nag acknowledgments."""
    # Imported here: stacks.control_tower loads aws-cdk-lib (jsii), which the report's
    # other readers of the assembly (make preflight) do not need.
    from stacks.control_tower import ACK_PREFIX

    return [
        {"stack": stack, "path": path, "rule": rule, "reason": reason}
        for stack, path, rule, reason in asm.acknowledgments()
        if not rule.startswith(ACK_PREFIX)
    ]


def control_tower_section(asm: Assembly) -> list[dict]:
    """AWS Control Tower proactive-control acknowledgments, by control id."""
    from stacks.control_tower import ACK_PREFIX, control_of

    return [
        {"stack": stack, "path": path, "control": control_of(rule.removeprefix(ACK_PREFIX)), "reason": reason}
        for stack, path, rule, reason in asm.acknowledgments()
        if rule.startswith(ACK_PREFIX)
    ]


def scanner_skips_section(asm: Assembly) -> list[dict]:
    """checkov skips recorded as resource metadata (`Metadata.checkov.skip`)."""
    return [
        {
            "stack": stack.id,
            "path": asm.resource(ResourceRef(stack.id, logical_id)).path,
            "check": check,
            "reason": reason,
        }
        for stack in asm.stacks.values()
        for logical_id, check, reason in checkov_skips(stack.template)
    ]


# -- the whole report ---------------------------------------------------------------


def build(
    assembly_dir: Path | str,
    config_path: str | None = None,
    resolved: list[ResolvedEndpoint] | None = None,
    shared: list[ResolvedSharedEndpoint] | None = None,
) -> dict:
    """The report for one config and the assembly synthesized from it."""
    asm = Assembly(assembly_dir)
    config = load_config(config_path)
    if resolved is None:
        resolved = resolve_endpoints(config)
    if shared is None:
        shared = resolve_shared_endpoints(config)
    endpoints, warnings = endpoints_section(asm, resolved, shared)
    surfaces = public_surfaces(asm)
    for s in surfaces:
        if s["kind"] != "API Gateway REST API" and s["public"]:
            warnings.append(f"public surface other than the API: {s['kind']} at {s['path']}")
        if "NONE" in s["auth"] and s["kind"].startswith("API Gateway"):
            warnings.append(f"{s['path']} has methods without authorization")
    region = asm.region or config.region
    totals = {
        scale: {
            "usd_per_hour": round(sum(e["cost"][scale]["usd_per_hour"] for e in endpoints if "cost" in e), 4),
            "usd_per_month": round(
                sum(e["cost"][scale]["usd_per_month"] for e in endpoints if "cost" in e), 2
            ),
        }
        for scale in ("min", "max")
    }
    return {
        "deployment": {
            "project": config.project_name,
            "region": region,
            "config": str(config_path) if config_path else "default",
            "assembly": str(Path(assembly_dir)),
        },
        "pricing": pricing_section(asm, region),
        "stacks": stacks_section(asm),
        "endpoints": endpoints,
        "endpoint_totals": totals,
        "iam_roles": roles_section(asm),
        "public_surfaces": surfaces,
        "nag_acknowledgments": acknowledgments_section(asm),
        "control_tower_acknowledgments": control_tower_section(asm),
        "scanner_skips": scanner_skips_section(asm),
        "warnings": warnings,
    }
