import os

import pytest

from tests.synth import CONFIGS

# jsii prints a large Node-20 end-of-life banner on every start otherwise.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# Fixtures that synthesize one shipped config (tests/studio/conftest.py).
_CONFIG_FIXTURES = {"studio_vpc": "studio-vpc", "studio_imported": "studio-imported-vpc"}


def pytest_collection_modifyitems(items):
    """Under `-n 2 --dist loadgroup` (make test), send every test of one shipped config to one
    worker: each worker synthesizes in-process (tests/synth.py caches per process), so
    spreading a config's tests over both workers synthesizes it twice. checkov scans every
    config in one process start (tests/stacks/test_checkov.py): its tests go together too."""
    for item in items:
        if item.path.name == "test_checkov.py":
            item.add_marker(pytest.mark.xdist_group("checkov"))
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        names = [v for v in params.values() if isinstance(v, str) and v in CONFIGS]
        names += [c for f, c in _CONFIG_FIXTURES.items() if f in getattr(item, "fixturenames", ())]
        if len(set(names)) == 1:
            item.add_marker(pytest.mark.xdist_group(names[0]))
