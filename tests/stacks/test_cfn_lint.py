"""cfn-lint over every synthesized template: no errors, no warnings.

W3005 (redundant DependsOn) is excepted: CDK emits it when a construct-level
dependency duplicates a GetAtt, which is harmless.
"""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint

from tests.synth import CONFIGS, synth

IGNORED = {"W3005"}


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_templates_are_cfn_lint_clean(config):
    s = synth(CONFIGS[config])
    args = ManualArgs(regions=[s.deployment.config.region])
    for stack_id, template in s.templates().items():
        found = lint(json.dumps(template), config=args)
        # Errors and warnings only; informational rules (I*) are style suggestions.
        matches = [m for m in found if m.rule.id[0] in "EW" and m.rule.id not in IGNORED]
        assert not matches, f"{config}/{stack_id}:\n" + "\n".join(str(m) for m in matches)
