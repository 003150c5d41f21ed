"""Stack: the deployment's dashboard and the front door's alarms.

Stateless and cheap to replace, so it is its own deployment unit: a dashboard
edit never touches the endpoints or the API. It reads the other stacks' names
through weak cross-stack references (Fn::GetStackOutput) and sends alarms to
the Endpoints stack's existing topic, which keeps its logical ID and its email
subscription.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.config import AppConfig
from stacks.constructs.frontdoor import FrontDoor
from stacks.constructs.jumpstart_endpoint import JumpStartEndpoint
from stacks.constructs.observability import FrontDoorAlarms, OperationsDashboard
from stacks.constructs.shared_endpoint import SharedEndpoint


class MonitoringStack(Stack):
    """An `OperationsDashboard` over every endpoint and the front door, and
    `FrontDoorAlarms` (when the API is enabled) publishing to `alarm_topic`.

    Attributes:
        dashboard: the OperationsDashboard construct.
        alarms: the front door alarms (empty without an API).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: AppConfig,
        endpoints: list[JumpStartEndpoint],
        alarm_topic: sns.ITopic,
        shared_endpoints: list[SharedEndpoint] = (),
        front_door: FrontDoor | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.alarms = (
            FrontDoorAlarms(self, "FrontDoorAlarms", front_door=front_door, topic=alarm_topic).alarms
            if front_door is not None
            else []
        )
        endpoint_alarms = [alarm for e in [*endpoints, *shared_endpoints] for alarm in e.alarms]
        self.dashboard = OperationsDashboard(
            self,
            "Operations",
            endpoints=endpoints,
            front_door=front_door,
            alarms=[*endpoint_alarms, *self.alarms],
            shared_endpoints=shared_endpoints,
        )
        CfnOutput(self, "DashboardUrl", value=self.dashboard.url, description=f"{config.project_name} dashboard")
