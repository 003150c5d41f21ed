"""Stack: the VPC that in-VPC model endpoints and the Studio domain share."""

from __future__ import annotations

from aws_cdk import Fn, Stack
from constructs import Construct

from stacks.config import AppConfig
from stacks.constructs.network import Network
from stacks.constructs.network_teardown_guard import NetworkTeardownGuard


class NetworkStack(Stack):
    """A `Network` construct, as its own deployment unit (stateful, long-lived)."""

    def __init__(self, scope: Construct, id_: str, *, config: AppConfig, **kwargs) -> None:
        self._azs = list(config.network.availability_zones)
        super().__init__(scope, id_, **kwargs)
        self.network = Network(
            self, "Network", config=config.network, log_retention_days=config.log_retention_days,
            parameter_prefix=f"/{config.project_name}/network",
        )
        # Only a VPC this app creates is deleted with the stack; an imported one is not ours to check.
        self.teardown_guard = (
            NetworkTeardownGuard(
                self, "TeardownGuard", network=self.network, log_retention_days=config.log_retention_days
            )
            if config.network.mode == "create"
            else None
        )

    @property
    def availability_zones(self) -> list[str]:
        """Two AZs without a context lookup, so synth needs no credentials.

        Configured names win; otherwise the account's first two AZs of the region,
        resolved by CloudFormation at deploy time (`Fn::GetAZs`).
        """
        return self._azs or [Fn.select(i, Fn.get_azs()) for i in range(2)]
