"""Fine-grained assertions on the Api stack (front door + async jobs)."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from summarizer.worker import MAX_RECEIVES
from tests.synth import CONFIGS, synth


@pytest.fixture(scope="module")
def api() -> Template:
    s = synth(CONFIGS["default"])
    return Template.from_json(s.template(s.deployment.api))


def test_every_method_requires_iam_auth(api):
    # Which methods exist, and which validate a body, is tests/stacks/test_api_contract.py's.
    methods = api.find_resources("AWS::ApiGateway::Method")
    assert len(methods) >= 10
    assert {m["Properties"]["AuthorizationType"] for m in methods.values()} == {"AWS_IAM"}


# OpenAI's routes: their function validates the body, so that a refusal has OpenAI's error
# shape (API Gateway's BAD_REQUEST_BODY answer is the API's own; docs/openai-compatibility.md).
FUNCTION_VALIDATED = {"v1/chat/completions", "v1/completions", "v1/embeddings", "v1/images/generations"}


def _path_of(api, method: dict) -> str:
    resources = api.find_resources("AWS::ApiGateway::Resource")
    parts, ref = [], method["ResourceId"].get("Ref")
    while ref in resources:
        parts.append(resources[ref]["Properties"]["PathPart"])
        parent = resources[ref]["Properties"]["ParentId"]
        ref = parent.get("Ref") if isinstance(parent, dict) else None
    return "/".join(reversed(parts))


def test_post_bodies_are_validated_against_models(api):
    posts = {_path_of(api, m["Properties"]): m["Properties"] for m in api.find_resources("AWS::ApiGateway::Method").values()
             if m["Properties"]["HttpMethod"] == "POST"}
    assert len(posts) >= 6 and FUNCTION_VALIDATED <= set(posts)
    for path, p in posts.items():
        validated = "RequestValidatorId" in p and "application/json" in p.get("RequestModels", {})
        assert validated == (path not in FUNCTION_VALIDATED), path


def test_stage_throttles_traces_and_logs_json(api):
    api.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "TracingEnabled": True,
            "MethodSettings": [Match.object_like({"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100})],
            "AccessLogSetting": Match.object_like({"Format": Match.string_like_regexp('"requestId"')}),
        },
    )


def test_waf_rate_rule_guards_the_stage(api):
    api.has_resource_properties(
        "AWS::WAFv2::WebACL",
        {"Scope": "REGIONAL", "Rules": Match.array_with([Match.object_like(
            {"Name": "RatePerClientIp", "Statement": {"RateBasedStatement": {"Limit": 1000, "AggregateKeyType": "IP"}}}
        )])},
    )
    api.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)


def test_functions_are_arm64_traced_with_powertools_layer_and_short_timeout(api):
    functions = {f["Properties"]["Handler"]: f["Properties"] for f in api.find_resources("AWS::Lambda::Function").values()}
    front, worker = functions["frontdoor.handler.lambda_handler"], functions["summarizer.worker.lambda_handler"]
    dead = functions["summarizer.dead_letters.lambda_handler"]
    for props in (front, worker, dead):
        assert props["Architectures"] == ["arm64"] and props["TracingConfig"] == {"Mode": "Active"}
        # The default config reserves nothing: new accounts lack the headroom (issue 9).
        assert "ReservedConcurrentExecutions" not in props
        assert "AWSLambdaPowertoolsPythonV3-python313-arm64" in json.dumps(props["Layers"])
    assert front["Timeout"] < 29 and worker["Timeout"] == 300 and dead["Timeout"] == 60


def test_lambda_may_invoke_only_this_deployments_endpoint(api):
    invoke = []
    for policy in api.find_resources("AWS::IAM::ManagedPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "sagemaker:InvokeEndpoint" in actions:
                invoke.append(statement["Resource"])
    assert len(invoke) == 3  # front door, worker and the streaming function
    for resource in invoke:
        assert resource != "*" and "Fn::GetStackOutput" in json.dumps(resource) or "ImportValue" in json.dumps(resource)


def test_models_json_names_models_not_endpoints_to_clients(api):
    [front] = [f for f in api.find_resources("AWS::Lambda::Function").values()
               if f["Properties"]["Handler"] == "frontdoor.handler.lambda_handler"]
    env = front["Properties"]["Environment"]["Variables"]
    rendered = json.dumps(env["MODELS_JSON"])
    assert '\\"name\\":\\"falcon-7b-instruct\\"' in rendered and '\\"max_input_length\\":1024' in rendered


def test_job_table_has_ttl_and_pitr_and_queue_has_dlq(api):
    api.has_resource_properties(
        "AWS::DynamoDB::Table",
        {"TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
         "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
         "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"})},
    )
    # The worker fails a job that crashed on every run only on one more delivery: the
    # redrive must allow exactly the receives the worker counts on. Visibility is 6x the
    # worker's 300 s timeout (Lambda docs, "Using Lambda with Amazon SQS").
    api.has_resource_properties(
        "AWS::SQS::Queue",
        {"RedrivePolicy": Match.object_like({"maxReceiveCount": MAX_RECEIVES}), "KmsMasterKeyId": Match.any_value(),
         "VisibilityTimeout": 1800},
    )


def test_job_worker_is_bounded_by_its_event_source_and_dead_letters_are_consumed(api):
    """The SQS poller ignores reserved concurrency; MaximumConcurrency is the bound
    (Lambda docs, "Configuring scaling behavior for SQS event source mappings")."""
    mappings = api.find_resources("AWS::Lambda::EventSourceMapping")
    assert sorted(m["Properties"]["ScalingConfig"]["MaximumConcurrency"] for m in mappings.values()) == [2, 5]
    assert all(m["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings.values())
    assert MAX_RECEIVES >= 5


def test_cognito_option_puts_a_user_pool_authorizer_on_every_method(tmp_path):
    import tempfile

    import aws_cdk as cdk
    import yaml

    from stacks.app_builder import build_app
    from tests.synth import REPO, cli_context

    config = yaml.safe_load((REPO / CONFIGS["default"]).read_text())
    config["api"] = {"auth": "cognito"}
    path = tmp_path / "cognito.yaml"
    path.write_text(yaml.safe_dump(config))
    app = cdk.App(context=cli_context(), outdir=tempfile.mkdtemp())
    deployment = build_app(app, str(path))
    assembly = app.synth()  # all four nag packs pass, or this raises
    t = Template.from_json(assembly.get_stack_by_name(deployment.api.stack_name).template)
    methods = t.find_resources("AWS::ApiGateway::Method").values()
    assert {m["Properties"]["AuthorizationType"] for m in methods} == {"COGNITO_USER_POOLS"}
    t.resource_count_is("AWS::ApiGateway::Authorizer", 1)
    t.has_resource_properties("AWS::Cognito::UserPool", {"MfaConfiguration": "ON"})


def test_waf_common_rules_only_count_on_prompt_bodies(api):
    [acl] = api.find_resources("AWS::WAFv2::WebACL").values()
    [common] = [r for r in acl["Properties"]["Rules"] if r["Name"] == "AWSManagedRulesCommonRuleSet"]
    overrides = common["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
    assert {o["Name"]: o["ActionToUse"] for o in overrides} == {
        name: {"Count": {}}
        for name in ("SizeRestrictions_BODY", "CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY")
    }


def test_one_invoke_permission_scoped_to_the_deployed_stage_and_account(api):
    """AWS Control Tower CT.LAMBDA.PR.2: Lambda resource policies scoped by SourceArn and
    SourceAccount; one statement for the whole API instead of two per method (stage and
    the console's test-invoke-stage)."""
    permissions = {p["Properties"]["FunctionName"]["Fn::GetAtt"][0]: p["Properties"]
                   for p in api.find_resources("AWS::Lambda::Permission").values()}
    # One for the front door, one for the streaming function (the two integrated functions).
    assert len(permissions) == 2
    for function, props in permissions.items():
        assert props["Principal"] == "apigateway.amazonaws.com" and props["Action"] == "lambda:InvokeFunction"
        assert props["SourceAccount"] == {"Ref": "AWS::AccountId"}
        stream = "Streaming" in function
        # The deployed stage only; the streaming function's methods are all POSTs.
        assert props["SourceArn"]["Fn::Join"][1][-1] == ("/api/POST/*" if stream else "/api/*/*")
    assert "test-invoke-stage" not in json.dumps(api.to_json())


def _feedback_table(t: Template) -> dict:
    [table] = [r["Properties"] for r in t.find_resources("AWS::DynamoDB::Table").values()
               if [k["AttributeName"] for k in r["Properties"]["KeySchema"]] == ["pk", "sk"]]
    return table


def _front_door(t: Template) -> dict:
    [front] = [f["Properties"] for f in t.find_resources("AWS::Lambda::Function").values()
               if f["Properties"]["Handler"] == "frontdoor.handler.lambda_handler"]
    return front


def test_feedback_table_expires_items_by_ttl_and_stores_no_generations_by_default(api):
    table = _feedback_table(api)
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["SSESpecification"]["SSEType"] == "KMS"  # user data is encrypted with the stack's key
    env = _front_door(api)["Environment"]["Variables"]
    assert "FEEDBACK_STORE_GENERATIONS" not in env and "FEEDBACK_RETENTION_DAYS" not in env


def test_stored_generations_reach_the_front_door_with_their_retention(tmp_path):
    """api.feedback.store_generations: the function is told (and may read back a generation to
    check feedback against it); the table already expires items by `expires_at`."""
    import tempfile

    import aws_cdk as cdk
    import yaml

    from stacks.app_builder import build_app
    from tests.synth import REPO, cli_context

    config = yaml.safe_load((REPO / CONFIGS["default"]).read_text())
    config["api"] = {"feedback": {"store_generations": True, "retention_days": 30}}
    path = tmp_path / "feedback.yaml"
    path.write_text(yaml.safe_dump(config))
    app = cdk.App(context=cli_context(), outdir=tempfile.mkdtemp())
    deployment = build_app(app, str(path))
    assembly = app.synth()  # all nag packs pass, or this raises
    t = Template.from_json(assembly.get_stack_by_name(deployment.api.stack_name).template)
    env = _front_door(t)["Environment"]["Variables"]
    assert (env["FEEDBACK_STORE_GENERATIONS"], env["FEEDBACK_RETENTION_DAYS"]) == ("true", "30")
    policies = [*t.find_resources("AWS::IAM::Policy").values(), *t.find_resources("AWS::IAM::ManagedPolicy").values()]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]
                  if s.get("Sid") == "StoreFeedback"]
    assert [sorted(s["Action"]) for s in statements] == [["dynamodb:GetItem", "dynamodb:PutItem"]]
    assert _feedback_table(t)["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
