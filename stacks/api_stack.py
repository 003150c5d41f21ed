"""Stack: the stateless front door (API Gateway + Lambda) and its job plumbing."""

from __future__ import annotations

import json

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct
from inference.params import TGI_FAMILIES

from stacks.config import AppConfig
from stacks.constructs.encryption import DataKey
from stacks.constructs.frontdoor import FrontDoor, FrontDoorProps
from stacks.constructs.idle_sleeper import grant_wake
from stacks.constructs.jumpstart_endpoint import JumpStartEndpoint
from stacks.constructs.log_retention import log_retention
from stacks.constructs.python_function import FunctionNetwork
from stacks.constructs.secure_bucket import AccessLogBucket
from stacks.constructs.shared_endpoint import SharedEndpoint
from stacks.contract.lambda_env import frontdoor_models
from stacks.models.jumpstart import ResolvedEndpoint
from stacks.models.shared_endpoints import ResolvedSharedEndpoint


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
        shared: list[ResolvedSharedEndpoint] = (),
        shared_endpoints: list[SharedEndpoint] = (),
        function_network: FunctionNetwork | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        key = DataKey(self, "DataKey", description=f"{config.project_name} API data").key
        access_logs = AccessLogBucket(self, "AccessLogs").bucket
        # Model name -> endpoint name for models with their own endpoint, and shared endpoint
        # name -> endpoint name for the models on it (lambda_env.frontdoor_models).
        endpoint_names = {n: e.endpoint_name for n, e in endpoints.items()}
        endpoint_names.update({e.resolved.name: e.endpoint_name for e in shared_endpoints})
        models = frontdoor_models(config, endpoint_names, resolved, list(shared))
        self.front_door = FrontDoor(
            self,
            "FrontDoor",
            props=FrontDoorProps(
                api=config.api,
                models_json=self.to_json_string(models) if models else json.dumps(models),
                key=key,
                access_logs=access_logs,
                log_retention=log_retention(config.log_retention_days),
                scale_to_zero=any(c.min_copies == 0 for s in shared for c in s.components),
                object_lock=config.object_lock,
                network=function_network,
            ),
        )
        for endpoint in [*endpoints.values(), *shared_endpoints]:
            endpoint.grant_invoke(self.front_door.handler.role)
            endpoint.grant_invoke(self.front_door.jobs.worker.role)
        # Only the front door wakes sleeping models (a summarization job fails fast instead).
        grant_wake(self.front_door.handler.role, [
            (endpoints[m["name"]].endpoint_arn, m["endpoint_config_parameter"], endpoints[m["name"]].volume_key_arn)
            for m in models if m.get("wakeable")
        ])
        self._grant_streaming(models, endpoints, list(shared_endpoints))

    def _grant_streaming(self, models: list[dict], endpoints: dict[str, JumpStartEndpoint],
                         shared_endpoints: list[SharedEndpoint]) -> None:
        """The streaming function serves the token streams and OpenAI's text routes
        (`/v1/chat/completions`, `/v1/completions`: API Gateway routes by path, and either may
        ask to stream). It may stream from exactly the models that can stream (text models of a
        TGI family), and call every text model (an answer that cannot stream token by token --
        several choices, an AI21 model -- is generated whole and sent as chunks): their
        endpoints, and for models on a shared endpoint the endpoint and their inference
        components (InvokeEndpoint* authorizes both: Service Authorization Reference, Amazon
        SageMaker AI). Actions: the Service Authorization Reference's
        `sagemaker:InvokeEndpointWithResponseStream`, and `sagemaker:InvokeEndpoint`, which
        the API Reference says the streaming operation needs too ("InvokeEndpointWithResponseStream":
        "your IAM permissions must allow the sagemaker:InvokeEndpoint action"). It wakes
        sleeping text models as the front door does (the same 503 model_asleep answer)."""
        role = self.front_door.streaming.role
        text = {m["name"] for m in models if m["kind"] == "text"}
        # Model families whose containers stream (TGI's "stream": true): the Lambda code's own list.
        streamable = {m["name"] for m in models if m["kind"] == "text" and m["family"] in TGI_FAMILIES}
        for sid, names, actions in (
            ("StreamFromModels", streamable,
             ["sagemaker:InvokeEndpointWithResponseStream", "sagemaker:InvokeEndpoint"]),
            ("InvokeTextModels", text - streamable, ["sagemaker:InvokeEndpoint"]),
        ):
            arns = self._model_arns(names, endpoints, shared_endpoints)
            if arns:
                role.add_to_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=arns))
        grant_wake(role, [
            (endpoints[m["name"]].endpoint_arn, m["endpoint_config_parameter"], endpoints[m["name"]].volume_key_arn)
            for m in models if m.get("wakeable") and m["name"] in text
        ])

    @staticmethod
    def _model_arns(names: set[str], endpoints: dict[str, JumpStartEndpoint],
                    shared_endpoints: list[SharedEndpoint]) -> list[str]:
        """The endpoints of `names`, and for those on a shared endpoint the endpoint and their components."""
        arns = [endpoints[name].endpoint_arn for name in sorted(names & set(endpoints))]
        for shared in shared_endpoints:
            components = [c.component_arn for name, c in sorted(shared.components.items()) if name in names]
            if components:
                arns += [shared.endpoint_arn, *components]
        return arns
