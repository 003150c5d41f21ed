"""Every alarm action topic lets CloudWatch publish to it.

An `AWS::SNS::TopicPolicy` replaces the topic's default access policy; it does not
add to it. A topic policy that only denies (CDK's `enforce_ssl` writes exactly one
Deny statement) therefore leaves CloudWatch alarms unauthorized to `sns:Publish`:
the alarm changes state, its history says "is not authorized to perform:
SNS:Publish", and nobody is notified. For every SNS topic of the deployment that an
alarm notifies (AlarmActions, OKActions, InsufficientDataActions, followed across
stacks), each topic policy that covers it must allow `cloudwatch.amazonaws.com`
to publish -- and, by this project's rule, only on behalf of this account.
"""

from __future__ import annotations

from tests.deploy.model import (
    ACCOUNT,
    Deployment,
    Res,
    alarm_topics,
    allows_action,
    assert_none,
    condition_values,
    covers,
    listify,
    service_principals,
    statements,
)


def _topic_policies(dep: Deployment, topic: Res) -> list[Res]:
    return [
        policy
        for policy in dep.resources("AWS::SNS::TopicPolicy")
        if any(dep.references(policy.stack, t, topic) for t in listify(policy.props.get("Topics")))
    ]


def _cloudwatch_publish(dep: Deployment, policy: Res, topic: Res) -> list[dict]:
    """The statements of a topic policy that allow CloudWatch to publish to the topic."""
    return [
        s
        for s in statements(policy.props.get("PolicyDocument"))
        if allows_action(s, "sns:Publish")
        and service_principals(dep, policy.stack, s) & {"cloudwatch.amazonaws.com", "*"}
        and covers(dep, policy.stack, s, topic)
    ]


def test_alarm_topic_policies_allow_cloudwatch_to_publish(deployment):
    """Every topic policy covering an alarm action topic has an Allow of `sns:Publish` for
    the `cloudwatch.amazonaws.com` service principal on that topic (a topic policy replaces
    the default policy, so without it alarm notifications are refused).

    Source: AWS Knowledge Center, "Why didn't I receive an SNS notification for my
    CloudWatch alarm trigger?",
    https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger
    """
    dep = deployment
    problems = []
    for topic, alarms in alarm_topics(dep).items():
        for policy in _topic_policies(dep, topic):
            if not _cloudwatch_publish(dep, policy, topic):
                problems.append(
                    f"{dep.name}: {policy} replaces the policy of {topic} (notified by {len(alarms)} alarms, "
                    f"e.g. {alarms[0]}) and has no Allow sns:Publish for cloudwatch.amazonaws.com"
                )
    assert_none(problems, "alarm topics must allow CloudWatch to publish")


def test_cloudwatch_publish_is_scoped_to_this_account(deployment):
    """Our rule on top of the documented one: the topic policy's Allow for
    `cloudwatch.amazonaws.com` carries an `aws:SourceAccount` condition naming this
    account, so alarms of other accounts cannot publish to our topic (confused deputy).

    Source: AWS Knowledge Center, "Why didn't I receive an SNS notification for my
    CloudWatch alarm trigger?" (restrict with global condition keys),
    https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger ; IAM User
    Guide, "The confused deputy problem",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
    """
    dep = deployment
    problems = []
    for topic in alarm_topics(dep):
        for policy in _topic_policies(dep, topic):
            allows = _cloudwatch_publish(dep, policy, topic)
            if not allows:
                problems.append(f"{dep.name}: {policy}: no Allow sns:Publish for CloudWatch on {topic} to scope")
            for statement in allows:
                accounts = condition_values(dep, policy.stack, statement, "aws:SourceAccount")
                if accounts != [ACCOUNT]:
                    problems.append(
                        f"{dep.name}: {policy}: the Allow sns:Publish for CloudWatch on {topic} is not scoped by "
                        f"aws:SourceAccount = this account (got {accounts or 'no condition'})"
                    )
    assert_none(problems, "CloudWatch's publish permission must be scoped to this account")
