"""Refusals for the network and Studio settings: field path, what is allowed, what was given."""

from __future__ import annotations

import copy

import pytest

from stacks.config import ConfigError, parse_config

BASE = {
    "region": "us-east-1",
    "endpoints": [{"model_id": "huggingface-llm-falcon-7b-instruct-bf16", "instance_type": "ml.g5.2xlarge"}],
    "network": {"mode": "create"},
    "studio": {"enabled": True},
}
IMPORTED = {"mode": "import", "vpc_id": "vpc-0123456789abcdef0", "subnet_ids": ["subnet-0123456789abcdef0"]}


def refusal(**sections) -> str:
    data = copy.deepcopy(BASE)
    for section, value in sections.items():
        data[section] = value
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    return str(err.value)


def test_valid_created_and_imported_networks_are_accepted():
    assert parse_config(BASE).studio.idle_timeout_minutes == 60
    config = parse_config({**BASE, "network": IMPORTED})
    assert (config.network.vpc_id, config.network.subnet_ids) == ("vpc-0123456789abcdef0", ["subnet-0123456789abcdef0"])


def test_vpc_only_studio_without_private_subnets_is_refused():
    assert refusal(network={"mode": "none"}) == (
        "studio: Studio runs VpcOnly and needs private subnets; set network.mode to "
        "'create' or 'import' (got 'none'), or studio.enabled to false"
    )


def test_imported_vpc_without_subnet_ids_is_refused():
    assert refusal(network={"mode": "import", "vpc_id": "vpc-0123456789abcdef0"}) == (
        "network.subnet_ids: network.mode 'import' needs the ids of the private subnets "
        "Studio and the endpoints run in (subnet-...)"
    )


def test_imported_vpc_without_vpc_id_is_refused():
    assert refusal(network={"mode": "import", "subnet_ids": ["subnet-0123456789abcdef0"]}) == (
        "network.vpc_id: network.mode 'import' needs the existing VPC's id (vpc-...)"
    )


@pytest.mark.parametrize(
    ("name", "index"), [("bad_name", 1), ("-leading", 1), ("trailing-", 1), ("", 1), ("a" * 64, 1), ("dot.ted", 1)]
)
def test_invalid_user_profile_names_are_refused(name, index):
    assert refusal(studio={"enabled": True, "user_profiles": ["ok-1", name]}) == (
        f"studio.user_profiles[{index}]: {name!r} is not a valid user profile name; allowed: "
        "1-63 letters, digits and hyphens, starting and ending with a letter or digit"
    )


@pytest.mark.parametrize("name", ["a", "A1", "data--scientist", "x" * 63, "0-9"])
def test_sagemaker_pattern_names_are_accepted(name):
    assert parse_config({**BASE, "studio": {"enabled": True, "user_profiles": [name]}}).studio.user_profiles == [name]


def test_duplicate_user_profiles_are_refused():
    assert refusal(studio={"enabled": True, "user_profiles": ["ana", "bo", "ana"]}) == (
        "studio: user_profiles must be unique, repeated: ana"
    )


@pytest.mark.parametrize("minutes", [0, 59, 525_601])
def test_idle_timeout_outside_sagemaker_range_is_refused(minutes):
    assert refusal(studio={"enabled": True, "idle_timeout_minutes": minutes}) == (
        f"studio.idle_timeout_minutes: must be 60-525600 minutes (SageMaker idle shutdown "
        f"range), got {minutes}"
    )


@pytest.mark.parametrize("minutes", [60, 525_600])
def test_idle_timeout_bounds_are_inclusive(minutes):
    studio = {"enabled": True, "idle_timeout_minutes": minutes, "max_idle_timeout_minutes": 525_600}
    assert parse_config({**BASE, "studio": studio}).studio.idle_timeout_minutes == minutes


def test_idle_timeout_above_user_maximum_is_refused():
    assert refusal(studio={"enabled": True, "idle_timeout_minutes": 600}) == (
        "studio: idle_timeout_minutes (600) must be <= max_idle_timeout_minutes (480)"
    )


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        (
            {"mode": "create", "vpc_id": "vpc-0123456789abcdef0"},
            "network.vpc_id: applies to network.mode 'import' only (mode is 'create')",
        ),
        (
            {**IMPORTED, "nat_gateways": 1},
            "network.nat_gateways: applies to network.mode 'create' only (mode is 'import')",
        ),
        (
            {"mode": "create", "availability_zones": ["us-east-1a"]},
            "network.availability_zones: needs exactly two distinct AZ names, got ['us-east-1a']",
        ),
        (
            {"mode": "create", "availability_zones": ["eu-west-1a", "eu-west-1b"]},
            "network: availability_zones must be in region us-east-1, got eu-west-1a, eu-west-1b",
        ),
        (
            {"mode": "create", "cidr": "10.0.0.0/8"},
            "network.cidr: prefix length must be 16-24 (two AZs of private and public subnets), got /8",
        ),
        (
            {"mode": "create", "cidr": "10.0.0.300/16"},
            "network.cidr: '10.0.0.300/16' is not an IPv4 network in CIDR notation, e.g. 10.40.0.0/16",
        ),
        ({"mode": "vpc"}, "network.mode: Input should be 'none', 'create' or 'import' (got 'vpc')"),
        (
            {"mode": "import", "vpc_id": "vpc-0123456789abcdef0", "subnet_ids": ["sn-1"]},
            "network.subnet_ids[0]: String should match pattern '^subnet-[0-9a-f]{8,17}$'",
        ),
    ],
)
def test_network_refusals_name_the_field(network, expected):
    assert refusal(network=network) == expected
