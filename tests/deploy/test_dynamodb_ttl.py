"""DynamoDB deletes an expired item only if its TTL attribute is a Number of epoch seconds.

The feedback table (stored generations and their feedback, `api.feedback.retention_days`)
and the jobs table expire items by TTL. A TTL attribute named after a key attribute would
be typed by the key schema (every key here is a String) and DynamoDB would silently never
delete anything: the stack deploys and the retention promise is broken.
"""

from __future__ import annotations

from tests.deploy.model import assert_none, listify


def test_ttl_attributes_are_enabled_and_not_string_keys(deployment):
    """Every table with a TimeToLiveSpecification has it Enabled, on an attribute that is not
    one of the table's AttributeDefinitions (key attributes, whose types are fixed: all S or
    B here), so items can carry it as a Number.

    Source: Amazon DynamoDB Developer Guide, "Formatting an item's TTL attribute" (the TTL
    attribute's value must be a top-level Number, epoch seconds; items whose TTL attribute is
    not a Number are ignored by TTL), https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html ;
    "Using time to live (TTL) in DynamoDB", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
    """
    dep = deployment
    problems, checked = [], 0
    for table in dep.resources("AWS::DynamoDB::Table"):
        ttl = table.props.get("TimeToLiveSpecification")
        if ttl is None:
            continue
        checked += 1
        if ttl.get("Enabled") is not True:
            problems.append(f"{dep.name}: {table} declares TTL on {ttl.get('AttributeName')!r} but does not enable it")
        typed = {d["AttributeName"]: d["AttributeType"] for d in listify(table.props.get("AttributeDefinitions"))}
        if ttl.get("AttributeName") in typed and typed[ttl["AttributeName"]] != "N":
            problems.append(
                f"{dep.name}: {table} TTL attribute {ttl['AttributeName']!r} is a key of type {typed[ttl['AttributeName']]}"
            )
    assert checked or not dep.config.api.enabled, f"{dep.name}: no table with TTL found to check"
    assert_none(problems, "TTL attributes must be enabled and free to hold a Number")
