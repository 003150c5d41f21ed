"""API Gateway may invoke every Lambda function a method integrates.

A REST API's Lambda proxy integration calls the function as `apigateway.amazonaws.com`,
which only the function's resource-based policy can allow; the request carries the
method's execute-api ARN as its source. The Api stack writes one permission for the
whole API instead of CDK's two per method, so nothing but this test shows that its
SourceArn really covers every method on the deployed stage: a narrower pattern
synthesizes, deploys, and then answers 500 on the methods it misses.
"""

from __future__ import annotations

import fnmatch

from tests.deploy.model import ACCOUNT, Deployment, Res, assert_none

# A Lambda proxy integration's URI: Invoke (buffered), or InvokeWithResponseStream for a
# method with `ResponseTransferMode: STREAM` (API Gateway Developer Guide, "Set up a Lambda
# proxy integration with payload response streaming in API Gateway": ".../2021-11-15/functions/
# <function ARN>/response-streaming-invocations"). Both are authorized by lambda:InvokeFunction
# (Lambda API Reference, "InvokeWithResponseStream").
LAMBDA_URIS = (":lambda:path/2015-03-31/functions/", ":lambda:path/2021-11-15/functions/")


def _path(dep: Deployment, method: Res) -> str:
    """The method's resource path without its leading slash (`v1/templates/{name}`)."""
    parts = []
    node = method.props["ResourceId"]
    while True:
        res = dep.ref(method.stack, node)
        if res is None or res.type != "AWS::ApiGateway::Resource":
            return "/".join(reversed(parts))  # reached the API's RootResourceId
        parts.append(res.props["PathPart"])
        node = res.props["ParentId"]


def _stages(dep: Deployment, api: Res) -> list[str]:
    return [
        stage.props["StageName"]
        for stage in dep.resources("AWS::ApiGateway::Stage")
        if dep.ref(stage.stack, stage.props.get("RestApiId")) == api
    ]


def _permits(dep: Deployment, permission: Res, function: Res, source_arn: str) -> bool:
    props = permission.props
    if not dep.references(permission.stack, props.get("FunctionName"), function):
        return False
    if props.get("Principal") != "apigateway.amazonaws.com" or props.get("Action") != "lambda:InvokeFunction":
        return False
    if "SourceAccount" in props and dep.render(permission.stack, props["SourceAccount"]) != ACCOUNT:
        return False
    pattern = dep.render(permission.stack, props.get("SourceArn"))
    return pattern is None or fnmatch.fnmatchcase(source_arn, pattern)


def test_every_lambda_integrated_method_may_invoke_its_function(deployment):
    """For every method on every stage, some Lambda permission of the integrated function
    allows `apigateway.amazonaws.com` to call `lambda:InvokeFunction` with that method's
    source ARN `arn:<partition>:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>`
    (and this account as SourceAccount, where the permission names one).

    Source: Amazon API Gateway Developer Guide, "Control access for invoking an API"
    (execute-api ARN format), https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html ;
    AWS Lambda Developer Guide, "Invoking a Lambda function using an Amazon API Gateway
    endpoint" (resource-based policy for API Gateway),
    https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway.html
    """
    dep = deployment
    functions = dep.resources("AWS::Lambda::Function")
    permissions = dep.resources("AWS::Lambda::Permission")
    partition = dep.pseudo("Api", "AWS::Partition")
    problems, checked = [], 0
    for method in dep.resources("AWS::ApiGateway::Method"):
        integration = method.props.get("Integration") or {}
        uri = integration.get("Uri")
        rendered = dep.render(method.stack, uri) or ""
        if integration.get("Type") not in ("AWS", "AWS_PROXY") or not any(u in rendered for u in LAMBDA_URIS):
            continue
        [function] = [f for f in functions if dep.references(method.stack, uri, f)]
        api = dep.ref(method.stack, method.props["RestApiId"])
        api_id = dep.render(method.stack, method.props["RestApiId"])
        for stage in _stages(dep, api):
            source = (f"arn:{partition}:execute-api:{dep.region}:{ACCOUNT}:{api_id}/{stage}/"
                      f"{method.props['HttpMethod']}/{_path(dep, method)}")
            checked += 1
            if not any(_permits(dep, p, function, source) for p in permissions):
                problems.append(f"{dep.name}: {method} ({source}) may not invoke {function}")
    assert checked or not dep.config.api.enabled, f"{dep.name}: no Lambda-integrated method found to check"
    streaming = [m for m in dep.resources("AWS::ApiGateway::Method")
                 if (m.props.get("Integration") or {}).get("ResponseTransferMode") == "STREAM"]
    assert all(LAMBDA_URIS[1] in (dep.render(m.stack, m.props["Integration"]["Uri"]) or "") for m in streaming), (
        f"{dep.name}: a streaming Lambda integration must call InvokeWithResponseStream")
    assert_none(problems, "API Gateway needs a Lambda permission covering every method it integrates")
