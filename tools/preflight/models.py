"""Model source checks: the JumpStart artifacts in S3, and AWS Marketplace model packages with
this account's subscription to them."""

from __future__ import annotations

from botocore.exceptions import ClientError

from stacks.models.jumpstart import ResolvedEndpoint
from stacks.models.marketplace import ResolvedPackage
from tools.preflight.results import BAD_CREDENTIALS, Result, error_code


def _artifact_error(s3, ep: ResolvedEndpoint) -> str | None:
    """None when the artifacts are there, else what S3 said."""
    try:
        if ep.artifact_is_prefix:
            page = s3.list_objects_v2(Bucket=ep.artifact_bucket, Prefix=ep.artifact_key, MaxKeys=1)
            return None if page.get("KeyCount", 0) else "no objects under the prefix"
        s3.head_object(Bucket=ep.artifact_bucket, Key=ep.artifact_key)
        return None
    except ClientError as exc:
        # HeadObject has no error body: its code is the HTTP status.
        return {"403": "AccessDenied", "404": "NoSuchKey"}.get(error_code(exc), error_code(exc))


def check_artifacts(s3, endpoints: list[ResolvedEndpoint], region: str) -> list[Result]:
    """The S3 artifacts each Model points at exist. Sources: S3 API ListObjectsV2/HeadObject;
    JumpStart's jumpstart-cache-prod-<region> (gated: jumpstart-private-cache-prod-<region>)."""
    rows = []
    for ep in (e for e in endpoints if not isinstance(e, ResolvedPackage)):  # a package's are the seller's
        where = f"s3://{ep.artifact_bucket}/{ep.artifact_key}"
        error = _artifact_error(s3, ep)
        if error is None:
            rows.append(Result("model artifacts", ep.name, "PASS", f"{where} reachable"))
        elif error == "AccessDenied" and ep.gated:
            # SageMaker reads gated artifacts under AcceptEula; callers may not list them.
            rows.append(Result("model artifacts", ep.name, "WARN", f"{where}: AccessDenied (gated model)",
                               "expected for gated models; SageMaker reads them once accept_eula is true"))
        else:
            rows.append(Result("model artifacts", ep.name, "FAIL", f"{where}: {error}",
                               "python tools/jumpstart_metadata.py refresh (stale pinned metadata), check the "
                               f"region ({region}), and allow s3:ListBucket/s3:GetObject on the bucket"))
    return rows


# What CreateModel answers (and CloudFormation reports for the AWS::SageMaker::Model) when the
# deploying account has no subscription to the package's listing: ValidationException,
# verbatim in aws/amazon-sagemaker-examples issues #1552 and #2286.
NOT_SUBSCRIBED = "Caller is not subscribed to the marketplace offering."


def _subscription_filters(product_id: str) -> list[dict]:
    """SearchAgreements as the buyer: PartyType Acceptor + AgreementType + ResourceIdentifier + Status
    is one of the combinations the API supports for acceptors (botocore marketplace-agreement model)."""
    return [{"name": "PartyType", "values": ["Acceptor"]},
            {"name": "AgreementType", "values": ["PurchaseAgreement"]},
            {"name": "ResourceIdentifier", "values": [product_id]},
            {"name": "Status", "values": ["ACTIVE"]}]


def check_marketplace_packages(sm, agreements, packages: list[ResolvedPackage], region: str) -> list[Result]:
    """Each configured AWS Marketplace model package exists in the region, runs on the configured
    instance type, and this account has an ACTIVE agreement (subscription) for its product.

    Sources: SageMaker API DescribeModelPackage (InferenceSpecification:
    SupportedRealtimeInferenceInstanceTypes, Containers[].ProductId "the AWS Marketplace product ID
    of the model package"); AWS Marketplace Agreement API SearchAgreements (buyer side: PartyType
    Acceptor, AgreementType PurchaseAgreement, ResourceIdentifier = product id, Status ACTIVE).
    """
    rows = []
    for ep in packages:
        try:
            described = sm.describe_model_package(ModelPackageName=ep.model_package_arn)
        except ClientError as exc:
            if error_code(exc) in BAD_CREDENTIALS:
                raise
            rows.append(_package_unreadable(ep, exc, region))
            continue
        spec = described.get("InferenceSpecification") or {}
        rows.append(_package_fits(ep, described, spec, region))
        rows.append(_subscription(agreements, ep, spec))
    return rows


def _package_unreadable(ep: ResolvedPackage, exc: ClientError, region: str) -> Result:
    """DescribeModelPackage failed: not allowed to look (WARN), or no such package here (FAIL)."""
    if "AccessDenied" in error_code(exc):
        return Result("marketplace package", ep.name, "WARN", f"could not check: {error_code(exc)}",
                      "allow sagemaker:DescribeModelPackage on the package ARN")
    return Result(
        "marketplace package", ep.name, "FAIL",
        f"{ep.model_package_arn}: {error_code(exc)}: {exc.response['Error'].get('Message', '')}",
        f"the seller may have withdrawn this version in {region}, or the account cannot see it: "
        f"check {ep.package.listing} and AI21's current ARN (AI21Labs/SageMaker versions/*/latest.json), then "
        "config/catalog/marketplace.yaml")


def _package_fits(ep: ResolvedPackage, described: dict, spec: dict, region: str) -> Result:
    """The package runs on the configured instance type."""
    supported = spec.get("SupportedRealtimeInferenceInstanceTypes") or []
    if supported and ep.instance_type not in supported:
        return Result("marketplace package", ep.name, "FAIL",
                      f"{ep.instance_type} is not among the package's instance types ({', '.join(supported)})",
                      "set endpoints[].instance_type to one of them (and update config/catalog/marketplace.yaml)")
    return Result("marketplace package", ep.name, "PASS",
                  f"{described['ModelPackageName']} in {region} ({described['ModelPackageStatus']})")


def _subscription(agreements, ep: ResolvedPackage, spec: dict) -> Result:
    """This account has an ACTIVE agreement for the package's product."""
    listing = ep.package.listing
    product = next((c["ProductId"] for c in spec.get("Containers", []) if c.get("ProductId")), None)
    fix = (f"subscribe the deploying account at {listing} (Continue to Subscribe, accept the offer), wait until "
           "the subscription is active, then run preflight again")
    if product is None:
        return Result("marketplace subscription", ep.name, "WARN",
                      "the package names no AWS Marketplace product id: cannot look up the agreement", fix)
    try:
        found = agreements.search_agreements(catalog="AWSMarketplace", filters=_subscription_filters(product),
                                             maxResults=1).get("agreementViewSummaries", [])
    except ClientError as exc:
        if error_code(exc) in BAD_CREDENTIALS:
            raise
        return Result("marketplace subscription", ep.name, "WARN", f"could not check: {error_code(exc)}",
                      "allow aws-marketplace:SearchAgreements (read-only), or check Manage subscriptions "
                      "in the AWS Marketplace console")
    if found:
        return Result("marketplace subscription", ep.name, "PASS",
                      f"{product}: agreement {found[0].get('agreementId', '?')} ACTIVE")
    return Result("marketplace subscription", ep.name, "FAIL",
                  f"no ACTIVE agreement for {product}: the deploy would fail at the model with "
                  f"\"{NOT_SUBSCRIBED}\"", fix)
