"""Everyone who sends to or receives from a KMS-encrypted queue may use the queue's key.

With a customer-managed key, SQS calls KMS as the caller: SendMessage without
kms:GenerateDataKey and kms:Decrypt on the key is refused (the API answers
KMS.AccessDeniedException, the job is never queued), and an event source mapping whose
function role lacks kms:Decrypt never delivers a message. Both deploy cleanly.
"""

from __future__ import annotations

from tests.deploy.model import Deployment, Res, allows_action, assert_none, covers, identity_documents, may_use_key, statements


def _queue_key(dep: Deployment, queue: Res) -> Res | None:
    key = dep.ref(queue.stack, queue.props.get("KmsMasterKeyId"))
    return key if key is not None and key.type == "AWS::KMS::Key" else None


def _missing(dep: Deployment, role: Res, key: Res, actions: tuple[str, ...]) -> list[str]:
    return [a for a in actions if not may_use_key(dep, role, key, a, grant_condition=False)]


def test_queue_producers_and_consumers_may_use_its_key(deployment):
    """For every SQS queue encrypted with a key of this deployment: every role allowed
    sqs:SendMessage on it is allowed kms:GenerateDataKey and kms:Decrypt on the key, and the
    role of every function an event source mapping feeds from it is allowed kms:Decrypt.

    Source: Amazon SQS Developer Guide, "Key management" ("Configure KMS permissions for
    producers": kms:GenerateDataKey and kms:Decrypt; "... for consumers": kms:Decrypt),
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html ;
    AWS Lambda Developer Guide, "Using Lambda with Amazon SQS" (execution role: kms:Decrypt
    for a queue encrypted with a customer managed key), https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
    """
    dep = deployment
    problems, checked = [], 0
    roles = dep.resources("AWS::IAM::Role")
    for queue in dep.resources("AWS::SQS::Queue"):
        key = _queue_key(dep, queue)
        if key is None:
            continue
        for role in roles:
            sends = any(
                allows_action(s, "sqs:SendMessage") and covers(dep, stack, s, queue)
                for stack, document in identity_documents(dep, role) for s in statements(document)
            )
            if sends:
                checked += 1
                if missing := _missing(dep, role, key, ("kms:GenerateDataKey", "kms:Decrypt")):
                    problems.append(f"{dep.name}: {role} may send to {queue} but not {', '.join(missing)} on {key}")
        for mapping in dep.resources("AWS::Lambda::EventSourceMapping"):
            if dep.ref(mapping.stack, mapping.props.get("EventSourceArn")) != queue:
                continue
            function = dep.ref(mapping.stack, mapping.props.get("FunctionName"))
            role = dep.ref(function.stack, function.props.get("Role")) if function is not None else None
            checked += 1
            if role is None or role.type != "AWS::IAM::Role":
                problems.append(f"{dep.name}: {mapping}: the consuming function's role is not in this deployment")
            elif missing := _missing(dep, role, key, ("kms:Decrypt",)):
                problems.append(f"{dep.name}: {role} consumes {queue} but may not {', '.join(missing)} on {key}")
    assert checked or not dep.config.api.enabled, f"{dep.name}: no encrypted queue's producer or consumer found"
    assert_none(problems, "producers and consumers of an encrypted queue must be allowed its key")
