"""Snapshots of every stack of every shipped config, asset hashes masked.

They guard refactors; intent lives in the fine-grained tests. Update with
`pytest --snapshot-update` after reviewing the diff.
"""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.synth import CONFIGS, normalize, synth


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_templates_match_snapshot(config, snapshot_json):
    for stack_id, template in sorted(synth(CONFIGS[config]).templates().items()):
        assert normalize(template) == snapshot_json(name=f"{config}-{stack_id}")
