"""Model deployment from Studio notebooks within guardrails (config `studio.deploy`, issue 21;
docs/studio.md, "Deploying from a notebook").

How the shared execution role tells users apart: the domain sets
`ExecutionRoleIdentityConfig: USER_PROFILE_NAME` (stacks/constructs/studio_domain.py), so
SageMaker puts the user profile's name in every app session of the execution role as its
source identity ("Monitor individual user resource access from SageMaker Studio Classic
with sourceIdentity", SageMaker Developer Guide), which IAM exposes to policies as the global
key `aws:SourceIdentity` ("AWS global condition context keys", IAM User Guide) and, being
single-valued, as the policy variable `${aws:SourceIdentity}` ("IAM policy elements:
Variables and tags"). A request without one (a session outside Studio) matches none of
these statements: the guardrails fail closed.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.compliance.nag import acknowledge, finding_id
from stacks.config.studio import OWNER_TAG, TTL_TAG
from stacks.constructs.model_hosting import ENDPOINT_LOG_GROUPS_REASON, grant_image_runtime
from stacks.constructs.roles import ManagedPolicyRole
from stacks.models.notebook_deploys import NotebookDeploys

CALLER = "${aws:SourceIdentity}"
# The tag keys a notebook may set on what it creates (aws:TagKeys): the owner and TTL tags,
# the SageMaker SDK's JumpStart tags (sagemaker-sdk:jumpstart-model-id, ...-model-version,
# aws-jumpstart-inference-model-uri, ...) and the tags Studio adds itself
# (sagemaker:domain-arn, sagemaker:user-profile-arn, sagemaker:space-arn: "Multiple domains
# overview", automatic tag propagation). Anything else, e.g. the app's own `project` tag, is
# refused, so a notebook endpoint cannot dress up as one of the platform's.
ALLOWED_TAG_KEYS = [OWNER_TAG, TTL_TAG, "sagemaker-sdk:*", "aws-jumpstart-*", "sagemaker:*"]
CREATE_ACTIONS = ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"]
OWNED_ACTIONS = [
    "sagemaker:DescribeModel", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeEndpoint",
    "sagemaker:UpdateEndpoint", "sagemaker:DeleteModel", "sagemaker:DeleteEndpointConfig",
    "sagemaker:DeleteEndpoint", "sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream",
]


class NotebookDeployGuardrails(Construct):
    """A managed policy on the Studio execution role letting notebooks deploy JumpStart
    models within guardrails, and the model execution role those deployments must run as.

    Attributes:
        model_role: the only role a notebook may pass to CreateModel (output NotebookModelRoleArn).
        policy: the execution role's notebook-deploy policy.
    """

    def __init__(self, scope: Construct, id_: str, *, deploys: NotebookDeploys,
                 execution_role: iam.IRole, key: kms.IKey) -> None:
        super().__init__(scope, id_)
        self.model_role = self._build_model_role(deploys)
        arns = {kind: self._sagemaker_arn(kind) for kind in ("model", "endpoint-config", "endpoint")}
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="Studio notebooks: deploy JumpStart models on allow-listed instances, tagged with "
            "their user profile; change, invoke and delete only their own",
            roles=[execution_role],
            statements=[
                *self._create_statements(deploys, arns, key),
                *self._owned_statements(arns),
                *self._pass_role_and_key_statements(key),
            ],
        )
        CfnOutput(self, "ModelRoleArn", value=self.model_role.role_arn,
                  description="The role a Studio notebook passes to JumpStartModel(role=...) to deploy")
        for kind, arn in arns.items():
            acknowledge(
                self.policy,
                f"Notebooks name their {kind}s at run time (the SDK generates them); creation needs the "
                "caller's owner tag (aws:RequestTag) and every later action the same tag on the "
                "resource (sagemaker:ResourceTag), so the pattern grants nothing of another user's.",
                finding_id(self, "AwsSolutions-IAM5", arn),
            )

    def _sagemaker_arn(self, kind: str) -> str:
        return Stack.of(self).format_arn(service="sagemaker", resource=kind, resource_name="*")

    @staticmethod
    def _tagged_on_create(extra: dict | None = None) -> dict:
        """The caller's owner tag on the request, only allowed tag keys, a source identity."""
        conditions: dict = {
            "StringEquals": {f"aws:RequestTag/{OWNER_TAG}": CALLER},
            "ForAllValues:StringLike": {"aws:TagKeys": ALLOWED_TAG_KEYS},
            "Null": {"aws:SourceIdentity": "false"},
        }
        for operator, block in (extra or {}).items():
            conditions[operator] = {**conditions.get(operator, {}), **block}
        return conditions

    def _create_statements(self, deploys: NotebookDeploys, arns: dict[str, str],
                           key: kms.IKey) -> list[iam.PolicyStatement]:
        """CreateModel, CreateEndpointConfig (allow-listed instance types only: ForAllValues
        alone is true for a request without the key, hence the Null check) and CreateEndpoint
        (its new endpoint tagged as the caller's, its config the caller's), and AddTags only as
        part of those creates (sagemaker:TaggingAction)."""
        owned = {"StringEquals": {f"sagemaker:ResourceTag/{OWNER_TAG}": CALLER},
                 "Null": {"aws:SourceIdentity": "false"}}
        return [
            iam.PolicyStatement(sid="CreateModelsTaggedAsCaller", actions=["sagemaker:CreateModel"],
                                resources=[arns["model"]], conditions=self._tagged_on_create()),
            iam.PolicyStatement(
                sid="CreateEndpointConfigsOnAllowedInstances",
                actions=["sagemaker:CreateEndpointConfig"],
                resources=[arns["endpoint-config"]],
                conditions=self._tagged_on_create({
                    "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": list(deploys.instance_types)},
                    "Null": {"sagemaker:InstanceTypes": "false"},
                    # A volume key, where one is given (EBS-backed instances), is the Studio key.
                    "ArnEqualsIfExists": {"sagemaker:VolumeKmsKey": key.key_arn},
                }),
            ),
            iam.PolicyStatement(sid="CreateEndpointsTaggedAsCaller", actions=["sagemaker:CreateEndpoint"],
                                resources=[arns["endpoint"]], conditions=self._tagged_on_create()),
            iam.PolicyStatement(sid="CreateEndpointsFromOwnConfigs", actions=["sagemaker:CreateEndpoint"],
                                resources=[arns["endpoint-config"]], conditions=owned),
            iam.PolicyStatement(
                sid="TagOnlyWhileCreating",
                actions=["sagemaker:AddTags"],
                resources=list(arns.values()),
                conditions=self._tagged_on_create({"StringEquals": {"sagemaker:TaggingAction": CREATE_ACTIONS}}),
            ),
        ]

    @staticmethod
    def _owned_statements(arns: dict[str, str]) -> list[iam.PolicyStatement]:
        """Describe (the SDK polls DescribeEndpoint; its cleanup reads the config), update,
        delete and invoke what carries the caller's owner tag. The platform's endpoints carry
        none: they stay invokable through the domain's own grant (grant_endpoints) only."""
        return [
            iam.PolicyStatement(
                sid="ManageAndInvokeOwnDeployments",
                actions=OWNED_ACTIONS,
                resources=list(arns.values()),
                conditions={"StringEquals": {f"sagemaker:ResourceTag/{OWNER_TAG}": CALLER},
                            "Null": {"aws:SourceIdentity": "false"}},
            )
        ]

    def _pass_role_and_key_statements(self, key: kms.IKey) -> list[iam.PolicyStatement]:
        """Pass only the notebook model role, only to SageMaker ("Grant a user permissions to
        pass a role to an AWS service", IAM User Guide); let SageMaker create the grant a
        volume encrypted with the Studio key needs (the caller of CreateEndpoint must be
        allowed to use the endpoint config's KmsKeyId)."""
        return [
            iam.PolicyStatement(
                sid="PassOnlyTheNotebookModelRole",
                actions=["iam:PassRole"],
                resources=[self.model_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="VolumeKeyGrantsForSageMaker",
                actions=["kms:CreateGrant"],
                resources=[key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"},
                            "StringEquals": {"kms:ViaService": f"sagemaker.{Aws.REGION}.amazonaws.com"}},
            ),
        ]

    def _build_model_role(self, deploys: NotebookDeploys) -> ManagedPolicyRole:
        """What a notebook-deployed JumpStart model runs as: pull the catalog models' images,
        read the region's JumpStart artifact buckets (public and gated), write endpoint logs
        and metrics. No KMS: the artifacts are SSE-S3 and a volume key is used through the
        grant its creator makes."""
        stack = Stack.of(self)
        role = ManagedPolicyRole(
            self, "ModelRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Runs JumpStart models deployed from Studio notebooks",
        )
        # With source identity on, a role the execution role's sessions lead SageMaker to
        # assume must allow sts:SetSourceIdentity ("Turn on sourceIdentity", SageMaker guide).
        role.assume_role_policy.add_statements(iam.PolicyStatement(
            actions=["sts:SetSourceIdentity"], principals=[iam.ServicePrincipal("sagemaker.amazonaws.com")]))
        buckets = [f"arn:{Aws.PARTITION}:s3:::jumpstart{kind}-cache-prod-{Aws.REGION}" for kind in ("", "-private")]
        role.add_to_policy(iam.PolicyStatement(sid="ReadJumpStartArtifacts", actions=["s3:GetObject"],
                                               resources=[f"{b}/*" for b in buckets]))
        role.add_to_policy(iam.PolicyStatement(sid="ListJumpStartArtifacts", actions=["s3:ListBucket"],
                                               resources=buckets))
        role.add_to_policy(iam.PolicyStatement(
            sid="PullJumpStartImages",
            actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            resources=[stack.format_arn(service="ecr", account=account, resource="repository", resource_name=repo)
                       for account, repo in deploys.image_repositories],
        ))
        (log_groups,) = grant_image_runtime(role, None)
        acknowledge(role.policy, ENDPOINT_LOG_GROUPS_REASON, finding_id(self, "AwsSolutions-IAM5", log_groups))
        for bucket in buckets:
            acknowledge(
                role.policy,
                "A notebook may deploy any catalog model, whose artifacts are prefixes of many files in "
                "AWS's JumpStart bucket of the region (gated models: the private one); read-only.",
                finding_id(self, "AwsSolutions-IAM5", f"{bucket}/*"),
            )
        return role
