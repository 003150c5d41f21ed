"""Fixtures shared by the Network/Studio tests: one synth per config per session."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.synth import CONFIGS, REPO, Synth, synth


@pytest.fixture(scope="session")
def studio_vpc() -> Synth:
    return synth(CONFIGS["studio-vpc"])


@pytest.fixture(scope="session")
def studio_imported() -> Synth:
    return synth(CONFIGS["studio-imported-vpc"])


@pytest.fixture(scope="session")
def studio_nat(tmp_path_factory) -> Synth:
    """studio-vpc with one NAT gateway: public + private-with-egress subnets."""
    data = yaml.safe_load((REPO / CONFIGS["studio-vpc"]).read_text())
    data["network"]["nat_gateways"] = 1
    path = Path(tmp_path_factory.mktemp("cfg")) / "studio-nat.yaml"
    path.write_text(yaml.safe_dump(data))
    return synth(str(path))


@pytest.fixture(scope="session")
def studio_teardown(tmp_path_factory) -> Synth:
    """studio-vpc with studio.delete_home_efs_on_destroy: the cleanup deletes the domain's home volume."""
    data = yaml.safe_load((REPO / CONFIGS["studio-vpc"]).read_text())
    data["studio"]["delete_home_efs_on_destroy"] = True
    path = Path(tmp_path_factory.mktemp("cfg")) / "studio-teardown.yaml"
    path.write_text(yaml.safe_dump(data))
    return synth(str(path))
