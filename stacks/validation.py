"""Every synth-time check on the app, registered in the order that lets them overlap.

aws-cdk-lib runs validation plugins one after another. cfn-guard (the Control Tower
controls) runs in its own processes, so it is started first and collected last, while the
node-side checks (the four cdk-nag packs, then aws-cdk-lib's built-in CloudFormation
validation) use the other core. Findings and acknowledgments are the same as with the
plugins in any order; only the wall time changes (docs/benchmarks.md, synth time).
"""

from __future__ import annotations

from functools import lru_cache

from aws_cdk import App, CloudFormationValidatePlugin, Validations

from stacks.control_tower import ControlTowerStart, ControlTowerValidator, GuardRun
from stacks.nag import attach_packs


@lru_cache(maxsize=1)
def _builtin_validation() -> CloudFormationValidatePlugin:
    # One per process, as aws-cdk-lib's own default instance is: each instance builds its
    # validation engine (~1.5 s). Registering it explicitly replaces the default instance,
    # which aws-cdk-lib would otherwise run after every plugin registered here.
    return CloudFormationValidatePlugin()


def attach_validations(app: App, *, builtin_validation: bool = True) -> GuardRun:
    """cfn-guard start -> cdk-nag packs -> built-in CloudFormation validation -> cfn-guard results.

    `builtin_validation=False` leaves aws-cdk-lib's own validation where it would be (and
    off when CDK_VALIDATION=false, which app.py passes on).
    """
    run = GuardRun()
    Validations.of(app).add_plugins(ControlTowerStart(run))
    attach_packs(app)
    if builtin_validation:
        Validations.of(app).add_plugins(_builtin_validation())
    Validations.of(app).add_plugins(ControlTowerValidator(run))
    return run
