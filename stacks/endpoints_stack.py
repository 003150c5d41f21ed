"""Stack: the JumpStart model endpoints, their data-capture bucket and alarm topic."""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.compliance.nag import acknowledge
from stacks.config import AppConfig
from stacks.constructs.encryption import DataKey
from stacks.constructs.idle_sleeper import EndpointSleep, IdleSleeper, IdleWatch
from stacks.constructs.jumpstart_endpoint import JumpStartEndpoint
from stacks.constructs.log_retention import log_retention
from stacks.constructs.marketplace_endpoint import MarketplaceEndpoint
from stacks.constructs.model_hosting import ModelNetwork
from stacks.constructs.python_function import FunctionNetwork
from stacks.constructs.secure_bucket import AccessLogBucket, SecureBucket
from stacks.constructs.shared_endpoint import SharedEndpoint
from stacks.models.jumpstart import ResolvedEndpoint
from stacks.models.marketplace import ResolvedPackage
from stacks.models.shared_endpoints import ResolvedSharedEndpoint


class EndpointsStack(Stack):
    """One `JumpStartEndpoint` per configured model, sharing one data key, one
    capture bucket (a prefix per endpoint) and one alarm topic."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: AppConfig,
        resolved: list[ResolvedEndpoint],
        shared: list[ResolvedSharedEndpoint] = (),
        network: ModelNetwork | None = None,
        function_network: FunctionNetwork | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.function_network = function_network
        self.data_key = DataKey(self, "DataKey", description=f"{config.project_name} endpoint data").key
        access_logs = AccessLogBucket(self, "AccessLogs").bucket
        self.capture_bucket = SecureBucket(
            self,
            "CaptureBucket",
            key=self.data_key,
            access_logs=access_logs,
            log_prefix="capture-bucket/",
            expire_after_days=90,
            object_lock=config.object_lock,
        ).bucket
        self.alarm_topic = self._build_alarm_topic(config)
        self.endpoints: dict[str, JumpStartEndpoint] = {
            # A Marketplace model package differs from a JumpStart model only in its model and role.
            r.name: (MarketplaceEndpoint if isinstance(r, ResolvedPackage) else JumpStartEndpoint)(
                self,
                r.construct_id,
                resolved=r,
                data_key=self.data_key,
                capture_bucket=self.capture_bucket,
                alarm_topic=self.alarm_topic,
                network=network,
            )
            for r in resolved
        }
        # Models sharing an endpoint (inference components) scale to zero natively: no sleep.
        self.shared: dict[str, SharedEndpoint] = {
            s.name: SharedEndpoint(
                self, s.construct_id, resolved=s, data_key=self.data_key, alarm_topic=self.alarm_topic, network=network
            )
            for s in shared
        }
        self._build_sleep(config, resolved)

    def _build_alarm_topic(self, config: AppConfig) -> sns.Topic:
        """The alarm topic, encrypted with the data key, that CloudWatch may publish to."""
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"{config.project_name} alarms",
            master_key=self.data_key,
            enforce_ssl=True,
        )
        # enforce_ssl writes a topic policy holding only a Deny, and a topic policy replaces
        # SNS's default one: without this Allow, CloudWatch may not publish and no alarm is
        # ever delivered (AWS re:Post knowledge center, "Why didn't I receive an SNS
        # notification for my CloudWatch alarm trigger?"). Scoped to this account's alarms
        # (CloudWatch User Guide, "Confused deputy prevention").
        topic.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsOfThisAccount",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                "ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"},
            },
        ))
        if config.monitoring.alarm_email:
            email = sns.Subscription(
                self,
                "AlarmEmail",
                topic=topic,
                protocol=sns.SubscriptionProtocol.EMAIL,
                endpoint=config.monitoring.alarm_email,
            )
            acknowledge(
                email,
                "An email subscription: SNS retries failed deliveries per its delivery policy, and an "
                "alarm that could not be mailed stays visible in ALARM state on the dashboard; a "
                "dead-letter queue of undelivered alarm mails would itself need watching.",
                "Serverless-SNSRedrivePolicy",
            )
        return topic

    def _build_sleep(self, config: AppConfig, resolved: list[ResolvedEndpoint]) -> None:
        sleepy = [(r, self.endpoints[r.name]) for r in resolved if r.settings.sleep is not None]
        self.sleep = {
            r.name: EndpointSleep(
                endpoint, "Sleep", endpoint=endpoint, project_name=config.project_name, sleep=r.settings.sleep
            )
            for r, endpoint in sleepy
        }
        watches = [IdleWatch(endpoint, r.settings.sleep.idle_after_hours)
                   for r, endpoint in sleepy if r.settings.sleep.idle_after_hours]
        self.idle_sleeper = (
            IdleSleeper(self, "IdleSleeper", watches=watches, key=self.data_key,
                        log_retention=log_retention(config.log_retention_days), network=self.function_network)
            if watches else None
        )
