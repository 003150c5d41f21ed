"""The public surfaces section: everything reachable from outside the account, with its auth."""

from __future__ import annotations

from typing import Any

from tools.report.assembly import Assembly, Resource, ResourceRef, as_list

OPEN_CIDRS = ("0.0.0.0/0", "::/0")


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
        for st in as_list((document or {}).get("Statement"))
        if st.get("Effect") == "Allow"
        and _is_public_principal(st.get("Principal"))
        and not st.get("Condition")
    ]


def public_surfaces(asm: Assembly) -> list[dict]:
    return [
        *_rest_apis(asm),
        *_http_and_websocket_apis(asm),
        *_lambda_surfaces(asm),
        *_storage_and_messaging_surfaces(asm),
        *_network_surfaces(asm),
        *_sagemaker_surfaces(asm),
    ]


def _rest_apis(asm: Assembly) -> list[dict]:
    """Each REST API: endpoint types, WAF, and every method with its authorization."""
    surfaces: list[dict] = []
    waf_targets = {
        ref: assoc
        for assoc in asm.resources("AWS::WAFv2::WebACLAssociation")
        for ref in asm.refs(assoc.ref.stack, assoc.properties.get("ResourceArn"))
    }
    for api in asm.resources("AWS::ApiGateway::RestApi"):
        types = (api.properties.get("EndpointConfiguration") or {}).get("Types") or ["EDGE"]
        methods = _rest_methods(asm, api)
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
    return surfaces


def _rest_methods(asm: Assembly, api: Resource) -> list[dict]:
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
    return methods


def _http_and_websocket_apis(asm: Assembly) -> list[dict]:
    surfaces: list[dict] = []
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
    return surfaces


def _lambda_surfaces(asm: Assembly) -> list[dict]:
    surfaces: list[dict] = []
    for url in asm.resources("AWS::Lambda::Url"):
        surfaces.append(_surface("Lambda function URL", url, [url.properties.get("AuthType", "NONE")]))
    for perm in asm.resources("AWS::Lambda::Permission"):
        if perm.properties.get("Principal") == "*" and not perm.properties.get("SourceArn"):
            surfaces.append(_surface("Lambda invoke permission for any principal", perm, ["NONE"]))
    return surfaces


def _storage_and_messaging_surfaces(asm: Assembly) -> list[dict]:
    surfaces: list[dict] = []
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
    return surfaces


def _network_surfaces(asm: Assembly) -> list[dict]:
    surfaces: list[dict] = []
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
    return surfaces


def _sagemaker_surfaces(asm: Assembly) -> list[dict]:
    surfaces: list[dict] = []
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
