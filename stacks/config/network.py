"""Where in-VPC endpoints, Studio and (optionally) the functions run."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from stacks.config.base import StrictModel

SUBNET_ID_RE = r"^subnet-[0-9a-f]{8,17}$"


class NetworkConfig(StrictModel):
    """Where in-VPC model endpoints and Studio run: no VPC, a new one, or an existing one."""

    mode: Literal["none", "create", "import"] = Field(
        "none", description="none: no VPC; create: a new private VPC; import: existing ids"
    )
    vpc_id: str | None = Field(
        None, pattern=r"^vpc-[0-9a-f]{8,17}$", validate_default=True, description="import only"
    )
    subnet_ids: list[Annotated[str, Field(pattern=SUBNET_ID_RE)]] = Field(
        default_factory=list,
        validate_default=True,
        description="import only: private subnets (no route to an internet gateway)",
    )
    nat_gateways: int = Field(0, ge=0, le=2, description="create only; 0 keeps subnets isolated")
    cidr: str = Field("10.40.0.0/16", description="create only: the new VPC's range")
    availability_zones: list[str] = Field(
        default_factory=list,
        description="create only: two AZ names; default: the region's first two for the account",
    )
    functions_in_vpc: bool = Field(
        False,
        description="create or import: run the app's Lambda functions in the private subnets "
        "(AWS Control Tower CT.LAMBDA.PR.3); create adds the VPC endpoints they call",
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, cidr: str) -> str:
        try:
            net = ipaddress.IPv4Network(cidr)
        except ValueError:
            raise ValueError(f"{cidr!r} is not an IPv4 network in CIDR notation, e.g. 10.40.0.0/16") from None
        if not 16 <= net.prefixlen <= 24:
            raise ValueError(f"prefix length must be 16-24 (two AZs of private and public subnets), got /{net.prefixlen}")
        return cidr

    @field_validator("vpc_id", "subnet_ids", "nat_gateways", "availability_zones")
    @classmethod
    def _fields_match_mode(cls, value, info: ValidationInfo):
        mode = info.data.get("mode")
        field = info.field_name
        if mode == "import" and field in ("vpc_id", "subnet_ids") and not value:
            what = "the existing VPC's id (vpc-...)" if field == "vpc_id" else (
                "the ids of the private subnets Studio and the endpoints run in (subnet-...)"
            )
            raise ValueError(f"network.mode 'import' needs {what}")
        allowed = {"vpc_id": "import", "subnet_ids": "import", "nat_gateways": "create", "availability_zones": "create"}
        if mode is not None and value and mode != allowed[field]:
            raise ValueError(f"applies to network.mode '{allowed[field]}' only (mode is '{mode}')")
        if field == "availability_zones" and value and len(set(value)) != 2:
            raise ValueError(f"needs exactly two distinct AZ names, got {value}")
        return value

    @field_validator("functions_in_vpc")
    @classmethod
    def _functions_need_a_vpc(cls, value: bool, info: ValidationInfo) -> bool:
        mode = info.data.get("mode")
        if value and mode == "none":
            raise ValueError(
                "applies to network.mode 'create' or 'import' only (mode is 'none'): the functions need private "
                "subnets; set network.mode to 'create' (a new private VPC) or 'import' (your VPC's ids), or "
                "functions_in_vpc to false"
            )
        return value
