"""Every EventBridge Scheduler schedule can run its target.

A schedule deploys whatever its `Target.RoleArn` says; only when it fires does Scheduler
assume that role and call the target with it. A role Scheduler may not assume, or one that
lacks the target's action, fails every run silently (the failure is a metric on the
schedule group, not a deploy error). The schedules here: the idle-endpoint checker and the
Studio reaper (Lambda targets), and the working-hours sleep/wake pairs (universal targets
that call SageMaker directly).
"""

from __future__ import annotations

import re

from tests.deploy.model import (
    ACCOUNT,
    Deployment,
    Res,
    allows_action,
    assert_none,
    condition_values,
    covers,
    identity_documents,
    listify,
    service_principals,
    statements,
)

# Universal targets: arn:aws:scheduler:::aws-sdk:<service>:<apiAction> (EventBridge Scheduler
# User Guide, "Using universal targets").
UNIVERSAL = re.compile(r"^arn:[\w-]+:scheduler:::aws-sdk:(?P<service>[\w-]+):(?P<api>\w+)$")


def _schedules(dep: Deployment) -> list[tuple[Res, Res]]:
    """(schedule, its execution role) for every schedule of the deployment."""
    found = []
    for schedule in dep.resources("AWS::Scheduler::Schedule"):
        role = dep.ref(schedule.stack, schedule.props["Target"]["RoleArn"])
        assert role is not None and role.type == "AWS::IAM::Role", f"{dep.name}: {schedule} has no role of this deployment"
        found.append((schedule, role))
    return found


def _allows(dep: Deployment, role: Res, action: str, target: Res | None) -> bool:
    for stack, document in identity_documents(dep, role):
        for statement in statements(document):
            if allows_action(statement, action) and (target is None or covers(dep, stack, statement, target)):
                return True
    return False


def test_schedule_roles_trust_scheduler_for_this_account_only(deployment):
    """Each schedule's execution role lets `scheduler.amazonaws.com` call sts:AssumeRole, and
    (our rule) only for schedules of this account (`aws:SourceAccount`).

    Source: Amazon EventBridge Scheduler User Guide, "Set up the execution role" (trust
    policy for scheduler.amazonaws.com, with aws:SourceAccount against confused deputies),
    https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
    """
    dep = deployment
    problems = []
    for schedule, role in _schedules(dep):
        trust = [
            s for s in statements(role.props.get("AssumeRolePolicyDocument"))
            if allows_action(s, "sts:AssumeRole") and "scheduler.amazonaws.com" in service_principals(dep, role.stack, s)
        ]
        if not trust:
            problems.append(f"{dep.name}: {schedule}'s role {role} does not trust scheduler.amazonaws.com")
        elif not all(ACCOUNT in condition_values(dep, role.stack, s, "aws:SourceAccount") for s in trust):
            problems.append(f"{dep.name}: {role} trusts Scheduler without aws:SourceAccount = this account")
    assert_none(problems, "Scheduler must be able to assume each schedule's role, for this account only")


def test_schedule_roles_may_call_their_target(deployment):
    """A Lambda target's role may `lambda:InvokeFunction` on that very function; a universal
    target's role may call its API action (`aws-sdk:sagemaker:deleteEndpoint` ->
    `sagemaker:DeleteEndpoint`).

    Sources: EventBridge Scheduler User Guide, "Using templated targets" (Lambda Invoke: the
    execution role needs lambda:InvokeFunction on the function),
    https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html ;
    "Using universal targets" (the execution role needs the IAM action of the API called),
    https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html
    """
    dep = deployment
    problems = []
    for schedule, role in _schedules(dep):
        arn = schedule.props["Target"]["Arn"]
        target = dep.ref(schedule.stack, arn)
        if target is not None and target.type == "AWS::Lambda::Function":
            if not _allows(dep, role, "lambda:InvokeFunction", target):
                problems.append(f"{dep.name}: {schedule}'s role {role} may not invoke {target}")
            continue
        match = UNIVERSAL.match(dep.render(schedule.stack, arn) or "")
        if match is None:
            problems.append(f"{dep.name}: {schedule} has a target this test does not know: {arn}")
            continue
        action = f"{match['service']}:{match['api'][0].upper()}{match['api'][1:]}"
        if not _allows(dep, role, action, None):
            problems.append(f"{dep.name}: {schedule}'s role {role} may not {action}")
    assert_none(problems, "each schedule's role must allow its target's action")


def test_some_config_has_each_kind_of_schedule():
    """The two checks above are not vacuous: the shipped configs hold Lambda targets (idle
    checker, Studio reaper) and universal targets (working-hours sleep)."""
    from tests.deploy.model import CONFIG_NAMES, load

    kinds = set()
    for name in CONFIG_NAMES:
        dep = load(name)
        for schedule, _ in _schedules(dep):
            target = dep.ref(schedule.stack, schedule.props["Target"]["Arn"])
            kinds.add("lambda" if target is not None else "universal")
            kinds.add(f"{schedule.stack}:{'lambda' if target is not None else 'universal'}")
    assert {"lambda", "universal", "Studio:lambda"} <= kinds, kinds
    assert listify(None) == []
