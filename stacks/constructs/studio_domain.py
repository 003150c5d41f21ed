"""A private SageMaker Studio domain and its least-privilege execution role (the
cleanup that lets `cdk destroy` delete it: `studio_cleanup`)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.compliance.nag import acknowledge, finding_id
from stacks.config import StudioConfig
from stacks.constructs.jumpstart_endpoint import JumpStartEndpoint
from stacks.constructs.roles import ManagedPolicyRole
from stacks.constructs.studio_cleanup import StudioCleanup

STUDIO_PREFIX = "studio/"
STUDIO_LOG_GROUP = "/aws/sagemaker/studio"
# SageMaker's default space volume is 5 GiB; the cap keeps a forgotten space cheap.
EBS_DEFAULT_GB = 5
EBS_MAX_GB = 100


class StudioDomain(Construct):
    """`AWS::SageMaker::Domain` (IAM auth, VpcOnly, home volume encrypted with
    `key`) with one execution role shared by the user profiles and spaces.

    The role can run JupyterLab and Code Editor in this domain only, browse and
    read the region's public JumpStart catalogue, read and write `studio/` in
    `bucket`, and (after `grant_endpoints`) describe and invoke this
    deployment's endpoints. Apps shut down after `config.idle_timeout_minutes`.

    Attributes:
        domain: the CfnDomain.
        role: the execution role.
        security_group: NFS to the home volume and app-to-app traffic, self only.
        user_profiles: name -> CfnUserProfile.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StudioConfig,
        domain_name: str,
        vpc: ec2.IVpc,
        subnet_ids: list[str],
        key: kms.IKey,
        bucket: s3.IBucket,
        log_retention_days: int,
        jupyter_lifecycle_config_arn: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        # Run by every JupyterLab space at start-up (the lecture notebook: studio_notebook.py).
        self._jupyter_lifecycle_config_arn = jupyter_lifecycle_config_arn
        if not subnet_ids:
            raise ValueError("StudioDomain: VpcOnly needs private subnet_ids, got none")
        self.security_group = self._build_security_group(vpc)
        self.role = self._build_role(key, bucket)
        self.domain = self._build_domain(config, domain_name, vpc, subnet_ids, key)
        self._grant_domain_actions()
        self.user_profiles = {
            name: sagemaker.CfnUserProfile(
                self, f"UserProfile-{name}", domain_id=self.domain.attr_domain_id, user_profile_name=name
            )
            for name in config.user_profiles
        }
        self.cleanup = StudioCleanup(
            self,
            "Cleanup",
            domain=self.domain,
            key=key,
            log_retention_days=log_retention_days,
            delete_home_efs=config.delete_home_efs_on_destroy,
            vpc_id=vpc.vpc_id,
        )
        # Delete order is the reverse of these dependencies: CloudFormation deletes the
        # cleanup (apps and spaces; with delete_home_efs_on_destroy also the profiles,
        # the domain and its home volume) before the profiles and the domain, whose own
        # deletes then succeed (or find them gone, which CloudFormation treats as deleted).
        self.cleanup.resource.node.add_dependency(self.domain)
        for profile in self.user_profiles.values():
            self.cleanup.resource.node.add_dependency(profile)

    def grant_endpoints(self, endpoints: list[JumpStartEndpoint]) -> None:
        """Let Studio users describe and invoke exactly these endpoints."""
        for endpoint in endpoints:
            endpoint.grant_invoke(self.role, streaming=True)
        if endpoints:
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="DescribeDeploymentEndpoints",
                    actions=["sagemaker:DescribeEndpoint"],
                    resources=[e.endpoint_arn for e in endpoints],
                )
            )

    # -- builders ---------------------------------------------------------------

    def _build_security_group(self, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        sg = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="SageMaker Studio apps: NFS and app traffic within the group, HTTPS out",
            allow_all_outbound=False,
        )
        nfs = ec2.Port.tcp(2049)
        # Studio's documented range between JupyterServer/KernelGateway-style apps.
        apps = ec2.Port.tcp_range(8192, 65535)
        sg.add_ingress_rule(sg, nfs, "NFS to the home EFS volume")
        sg.add_ingress_rule(sg, apps, "Studio app-to-app traffic")
        sg.add_egress_rule(sg, nfs, "NFS to the home EFS volume")
        sg.add_egress_rule(sg, apps, "Studio app-to-app traffic")
        sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to VPC endpoints, S3 and (with NAT) out")
        return sg

    def _build_role(self, key: kms.IKey, bucket: s3.IBucket) -> ManagedPolicyRole:
        """`ExecutionRole`: JumpStart's public catalogue, the Studio UI's List* calls, the
        `studio/` prefix of `bucket`, `key`, and Studio's log group; the domain's own ARNs
        come later (`_grant_domain_actions`), since the domain references this role."""
        role = self._new_execution_role()
        jumpstart_objects, public_hub_content = self._grant_jumpstart(role)
        self._grant_studio_ui(role)
        studio_objects = self._grant_studio_prefix(role, bucket)
        key.grant(role, "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey")
        studio_logs = self._grant_studio_logs(role)
        self._acknowledge_role_wildcards(role, jumpstart_objects, public_hub_content, studio_objects, studio_logs)
        return role

    def _new_execution_role(self) -> ManagedPolicyRole:
        role = ManagedPolicyRole(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="SageMaker Studio users: JupyterLab in this domain, JumpStart, this deployment's endpoints",
        )
        # The domain records each user's profile name as the session's source identity
        # (ExecutionRoleIdentityConfig), so CloudTrail shows who did what.
        role.assume_role_policy.add_statements(
            iam.PolicyStatement(
                actions=["sts:SetSourceIdentity"],
                principals=[iam.ServicePrincipal("sagemaker.amazonaws.com")],
            )
        )
        return role

    @staticmethod
    def _grant_jumpstart(role: ManagedPolicyRole) -> tuple[str, str]:
        """Read the region's JumpStart catalogue bucket and browse AWS's public model hub;
        returns the wildcard ARNs granted (catalogue objects, hub content)."""
        jumpstart_bucket = f"arn:{Aws.PARTITION}:s3:::jumpstart-cache-prod-{Aws.REGION}"
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadJumpStartCatalogue",
                actions=["s3:GetObject"],
                resources=[f"{jumpstart_bucket}/*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(sid="ListJumpStartCatalogue", actions=["s3:ListBucket"], resources=[jumpstart_bucket])
        )
        public_hub = f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:aws:hub/SageMakerPublicHub"
        public_hub_content = f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:aws:hub-content/SageMakerPublicHub/*"
        role.add_to_policy(
            iam.PolicyStatement(
                sid="BrowseJumpStartHub",
                actions=[
                    "sagemaker:DescribeHub",
                    "sagemaker:DescribeHubContent",
                    "sagemaker:ListHubContents",
                    "sagemaker:ListHubContentVersions",
                ],
                resources=[public_hub, public_hub_content],
            )
        )
        return f"{jumpstart_bucket}/*", public_hub_content

    @staticmethod
    def _grant_studio_ui(role: ManagedPolicyRole) -> None:
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListForStudioUi",
                actions=[
                    "sagemaker:ListApps",
                    "sagemaker:ListDomains",
                    "sagemaker:ListEndpoints",
                    "sagemaker:ListHubs",
                    "sagemaker:ListSpaces",
                    "sagemaker:ListUserProfiles",
                ],
                resources=["*"],
            )
        )

    @staticmethod
    def _grant_studio_prefix(role: ManagedPolicyRole, bucket: s3.IBucket) -> str:
        """Read, write and list `studio/` in `bucket`; returns the objects' ARN pattern."""
        objects = bucket.arn_for_objects(f"{STUDIO_PREFIX}*")
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadWriteStudioPrefix",
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[objects],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListStudioPrefix",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{STUDIO_PREFIX}*"]}},
            )
        )
        return objects

    def _grant_studio_logs(self, role: ManagedPolicyRole) -> str:
        """Write to Studio's log group; returns its ARN pattern (streams included)."""
        studio_logs = Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{STUDIO_LOG_GROUP}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteStudioLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[studio_logs],
            )
        )
        return studio_logs

    def _acknowledge_role_wildcards(self, role: ManagedPolicyRole, jumpstart_objects: str,
                                    public_hub_content: str, objects: str, studio_logs: str) -> None:
        """Why each wildcard resource of the execution role's policy is as narrow as it can be."""
        acknowledge(
            role.policy,
            "The List* actions Studio's UI calls (ListApps, ListSpaces, ListUserProfiles, ListDomains, "
            "ListEndpoints, ListHubs) support no resource-level permissions; they return names only, "
            "and Describe/Invoke are limited to this domain and deployment.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        for arn, reason in (
            (jumpstart_objects, "JumpStart's public catalogue (model specs, notebooks, artifacts) is "
             "one AWS-owned bucket per region with keys unknown in advance; read-only."),
            (public_hub_content, "Browsing JumpStart in Studio reads the content of AWS's public model hub "
             "(SageMakerPublicHub) in this region; read-only and limited to that hub."),
            (objects, "Users' files are objects under the studio/ prefix of the deployment's own Studio "
             "bucket; keys are chosen by users, so the grant is the prefix."),
            (studio_logs, "Studio apps write to log streams named per app in the /aws/sagemaker/studio "
             "log group; the stream names are created at run time."),
        ):
            acknowledge(role.policy, reason, finding_id(self, "AwsSolutions-IAM5", arn))

    def _idle(self, config: StudioConfig) -> sagemaker.CfnDomain.AppLifecycleManagementProperty:
        return sagemaker.CfnDomain.AppLifecycleManagementProperty(
            idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
                lifecycle_management="ENABLED",
                idle_timeout_in_minutes=config.idle_timeout_minutes,
                min_idle_timeout_in_minutes=60,
                max_idle_timeout_in_minutes=config.max_idle_timeout_minutes,
            )
        )

    def _build_domain(
        self, config: StudioConfig, name: str, vpc: ec2.IVpc, subnet_ids: list[str], key: kms.IKey
    ) -> sagemaker.CfnDomain:
        small = sagemaker.CfnDomain.ResourceSpecProperty(instance_type=config.instance_type)
        lcc = self._jupyter_lifecycle_config_arn
        jupyter = sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
            default_resource_spec=sagemaker.CfnDomain.ResourceSpecProperty(
                instance_type=config.instance_type, lifecycle_config_arn=lcc),
            app_lifecycle_management=self._idle(config),
            lifecycle_config_arns=[lcc] if lcc else None,
        )
        storage = sagemaker.CfnDomain.DefaultSpaceStorageSettingsProperty(
            default_ebs_storage_settings=sagemaker.CfnDomain.DefaultEbsStorageSettingsProperty(
                default_ebs_volume_size_in_gb=EBS_DEFAULT_GB, maximum_ebs_volume_size_in_gb=EBS_MAX_GB
            )
        )
        groups = [self.security_group.security_group_id]
        domain = sagemaker.CfnDomain(
            self,
            "Domain",
            domain_name=name,
            auth_mode="IAM",
            app_network_access_type="VpcOnly",
            vpc_id=vpc.vpc_id,
            subnet_ids=subnet_ids,
            kms_key_id=key.key_arn,
            domain_settings=sagemaker.CfnDomain.DomainSettingsProperty(
                execution_role_identity_config="USER_PROFILE_NAME"
            ),
            default_user_settings=sagemaker.CfnDomain.UserSettingsProperty(
                execution_role=self.role.role_arn,
                security_groups=groups,
                jupyter_lab_app_settings=jupyter,
                code_editor_app_settings=sagemaker.CfnDomain.CodeEditorAppSettingsProperty(
                    default_resource_spec=small, app_lifecycle_management=self._idle(config)
                ),
                space_storage_settings=storage,
                studio_web_portal="ENABLED",
                default_landing_uri="studio::",
                # Sharing would copy notebooks and outputs to an S3 location outside our bucket policy.
                sharing_settings=sagemaker.CfnDomain.SharingSettingsProperty(notebook_output_option="Disabled"),
            ),
            default_space_settings=sagemaker.CfnDomain.DefaultSpaceSettingsProperty(
                execution_role=self.role.role_arn,
                security_groups=groups,
                jupyter_lab_app_settings=jupyter,
                space_storage_settings=storage,
            ),
        )
        # SageMaker validates the role when creating the domain; its permissions must exist.
        domain.node.add_dependency(self.role.policy)
        return domain

    def _grant_domain_actions(self) -> None:
        """Actions on this domain's own ARNs.

        In a policy of their own, attached through the policy's `Roles`: the role's
        managed-policy list cannot name a policy that references the domain, which
        itself references the role.
        """
        apps, spaces, profiles = (self._domain_arn(kind) for kind in ("app", "space", "user-profile"))
        policy = iam.ManagedPolicy(
            self,
            "DomainPolicy",
            description="Studio users: apps, spaces and profiles of this domain only",
            roles=[self.role],
            statements=self._domain_statements(apps, spaces, profiles),
        )
        for value, what in ((apps, "apps"), (spaces, "spaces")):
            acknowledge(
                policy,
                f"Studio creates {what} with user-chosen names at run time; the grant is limited to "
                "this domain's ARN prefix (its generated domain id).",
                finding_id(self, "AwsSolutions-IAM5", value),
            )
        acknowledge(
            policy,
            "Studio describes the signed-in user's profile; with IAM auth, admins may add profiles "
            "outside this stack, so the read-only grant is this domain's profile ARN prefix.",
            finding_id(self, "AwsSolutions-IAM5", profiles),
        )
        self.domain_policy = policy

    def _domain_arn(self, resource: str) -> str:
        """The ARN prefix of this domain's `resource`s (app, space, user-profile)."""
        return Stack.of(self).format_arn(
            service="sagemaker", resource=resource, resource_name=f"{self.domain.attr_domain_id}/*"
        )

    def _domain_statements(self, apps: str, spaces: str, profiles: str) -> list[iam.PolicyStatement]:
        """Describe the domain and its profiles; run apps and manage spaces in it."""
        return [
            iam.PolicyStatement(
                sid="DescribeThisDomain",
                actions=["sagemaker:DescribeDomain"],
                resources=[self.domain.attr_domain_arn],
            ),
            iam.PolicyStatement(
                sid="DescribeProfilesOfThisDomain",
                actions=["sagemaker:DescribeUserProfile"],
                resources=[profiles],
            ),
            iam.PolicyStatement(
                sid="RunAppsInThisDomain",
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:CreateApp",
                    "sagemaker:DeleteApp",
                    "sagemaker:DescribeApp",
                    "sagemaker:ListTags",
                ],
                resources=[apps],
            ),
            iam.PolicyStatement(
                sid="ManageSpacesInThisDomain",
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:CreateSpace",
                    "sagemaker:DeleteSpace",
                    "sagemaker:DescribeSpace",
                    "sagemaker:ListTags",
                    "sagemaker:UpdateSpace",
                ],
                resources=[spaces],
            ),
        ]
