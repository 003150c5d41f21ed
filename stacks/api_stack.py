"""Stack: the stateless front door (API Gateway + Lambda) and its job plumbing."""

from __future__ import annotations

import json

from aws_cdk import Stack
from constructs import Construct

from stacks.config import AppConfig
from stacks.constructs.encryption import DataKey
from stacks.constructs.endpoint_sleep import grant_wake
from stacks.constructs.front_door import FrontDoor, FrontDoorProps
from stacks.constructs.jumpstart_endpoint import JumpStartEndpoint
from stacks.constructs.secure_bucket import AccessLogBucket
from stacks.jumpstart import ResolvedEndpoint
from stacks.lambda_env import frontdoor_models
from stacks.log_retention import log_retention



class ApiStack(Stack):
    """The API clients call. It may invoke only this deployment's endpoints."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: AppConfig,
        resolved: list[ResolvedEndpoint],
        endpoints: dict[str, JumpStartEndpoint],
        **kwargs,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        key = DataKey(self, "DataKey", description=f"{config.project_name} API data").key
        access_logs = AccessLogBucket(self, "AccessLogs").bucket
        models = frontdoor_models(config, {n: e.endpoint_name for n, e in endpoints.items()}, resolved)
        self.front_door = FrontDoor(
            self,
            "FrontDoor",
            props=FrontDoorProps(
                api=config.api,
                models_json=self.to_json_string(models) if models else json.dumps(models),
                key=key,
                access_logs=access_logs,
                log_retention=log_retention(config.log_retention_days),
            ),
        )
        for endpoint in endpoints.values():
            endpoint.grant_invoke(self.front_door.handler.role)
            endpoint.grant_invoke(self.front_door.jobs.worker.role)
        # Only the front door wakes sleeping models (a summarization job fails fast instead).
        grant_wake(self.front_door.handler.role, [
            (endpoints[m["name"]].endpoint_arn, m["endpoint_config_parameter"], endpoints[m["name"]].volume_key_arn)
            for m in models if m.get("wakeable")
        ])
