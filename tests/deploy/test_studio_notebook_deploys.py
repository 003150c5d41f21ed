"""What a Studio notebook may deploy, decided by evaluating the synthesized execution role's
identity policies for concrete requests (tests/iam_evaluator.py: the operators it models
and what it does not model, e.g. SCPs, permission boundaries, session and resource policies).

The request context of each call is what the Service Authorization Reference ("Actions,
resources, and condition keys for Amazon SageMaker AI") lists for the action: the request's
tags (`aws:RequestTag/*`, `aws:TagKeys`), `sagemaker:InstanceTypes` and
`sagemaker:VolumeKmsKey` on CreateEndpointConfig, `sagemaker:TaggingAction` on AddTags, and the
tags of the resource acted on (`sagemaker:ResourceTag/*`); plus the global key
`aws:SourceIdentity`, the user profile name that SageMaker sets on the execution role's
session when the domain's `ExecutionRoleIdentityConfig` is `USER_PROFILE_NAME` ("Monitor
individual user resource access from SageMaker Studio Classic with sourceIdentity").
Both Studio configs ship with notebook deploys on (`studio.deploy.enabled` defaults to true).
"""

from __future__ import annotations

import pytest

from stacks.config.studio import OWNER_TAG
from stacks.models.notebook_deploys import notebook_deploys
from tests.deploy.model import ACCOUNT
from tests.deploy.studio_policies import (
    deployment,
    execution_role,
    notebook_model_role,
    rendered_statements,
    role_arn,
)
from tests.iam_evaluator import Request, allowed

STUDIO_CONFIGS = ["studio-vpc", "studio-imported-vpc"]
ALICE, BOB = "alice", "bob"
SDK_TAGS = {"sagemaker-sdk:jumpstart-model-id": "huggingface-llm-falcon-7b-instruct-bf16",
            "sagemaker-sdk:jumpstart-model-version": "4.6.16"}


class Notebook:
    """Requests a notebook of `user` makes against one deployment."""

    def __init__(self, config_name: str, user: str | None = ALICE):
        self.dep = deployment(config_name)
        self.region = self.dep.region
        self.policies = rendered_statements(self.dep, execution_role(self.dep))
        self.user = user
        self.deploys = notebook_deploys(self.dep.config)

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{ACCOUNT}:{kind}/{name}"

    def may(self, action: str, resource: str, **context) -> bool:
        if self.user is not None:
            context.setdefault("aws:SourceIdentity", self.user)
        return allowed(self.policies, Request(f"sagemaker:{action}" if ":" not in action else action,
                                              resource, context))

    def tags(self, owner: str | None = ALICE, **extra: str) -> dict:
        tags = {**SDK_TAGS, **extra, **({OWNER_TAG: owner} if owner else {})}
        return {**{f"aws:RequestTag/{k}": v for k, v in tags.items()}, "aws:TagKeys": sorted(tags)}

    def create_config(self, instance_types: list[str] | None, **tag_args) -> bool:
        """CreateEndpointConfig (and the AddTags it implies) of config `cfg`."""
        context = self.tags(**tag_args)
        if instance_types is not None:
            context["sagemaker:InstanceTypes"] = instance_types
        resource = self.arn("endpoint-config", "cfg")
        return self.may("CreateEndpointConfig", resource, **context) and self.may(
            "AddTags", resource, **context, **{"sagemaker:TaggingAction": "CreateEndpointConfig"})

    def owned(self, owner: str | None) -> dict:
        return {f"sagemaker:ResourceTag/{OWNER_TAG}": owner} if owner else {}


@pytest.fixture(params=STUDIO_CONFIGS)
def notebook(request) -> Notebook:
    return Notebook(request.param)


@pytest.mark.parametrize("config_name", STUDIO_CONFIGS)
def test_the_sdk_deploy_and_cleanup_of_a_falcon_model_is_allowed(config_name):
    """`JumpStartModel(model_id=..., role=<NotebookModelRoleArn>).deploy(tags=[owner])`: the
    SDK calls CreateModel (passing the role), CreateEndpointConfig, CreateEndpoint (which
    authorizes the endpoint and the endpoint config), each tagging on create, polls
    DescribeEndpoint; `predict` invokes; `delete_model`/`delete_endpoint` read the config and
    delete all three. IAM User Guide, "Grant a user permissions to pass a role to an AWS
    service" (iam:PassRole, iam:PassedToService)."""
    nb = Notebook(config_name)
    model, cfg, endpoint = nb.arn("model", "m"), nb.arn("endpoint-config", "cfg"), nb.arn("endpoint", "e")
    model_role = role_arn(notebook_model_role(nb.dep))
    smallest = "ml.g5.2xlarge"  # Falcon-7B-instruct's cheapest fit
    assert smallest in nb.deploys.instance_types
    assert nb.may("iam:PassRole", model_role, **{"iam:PassedToService": "sagemaker.amazonaws.com"})
    for action, resource in (("CreateModel", model), ("CreateEndpoint", endpoint)):
        assert nb.may(action, resource, **nb.tags()), action
        assert nb.may("AddTags", resource, **nb.tags(), **{"sagemaker:TaggingAction": action}), action
    assert nb.create_config([smallest])
    assert nb.may("CreateEndpoint", cfg, **nb.owned(ALICE))
    for action, resource in (("DescribeEndpoint", endpoint), ("InvokeEndpoint", endpoint),
                             ("InvokeEndpointWithResponseStream", endpoint), ("DescribeEndpointConfig", cfg),
                             ("DescribeModel", model), ("UpdateEndpoint", endpoint), ("DeleteEndpoint", endpoint),
                             ("DeleteEndpointConfig", cfg), ("DeleteModel", model)):
        assert nb.may(action, resource, **nb.owned(ALICE)), action


def test_every_allow_listed_instance_type_is_allowed(notebook):
    """Service Authorization Reference: CreateEndpointConfig supports `sagemaker:InstanceTypes`
    (all instance types of the request's production variants); the policy allows it with
    ForAllValues:StringEquals over the allow-list."""
    assert notebook.deploys.instance_types
    for instance_type in notebook.deploys.instance_types:
        assert notebook.create_config([instance_type]), instance_type
    assert notebook.create_config(list(notebook.deploys.instance_types))


@pytest.mark.parametrize("types", [["ml.g5.48xlarge"], ["ml.p4d.24xlarge"], ["ml.g5.2xlarge", "ml.g5.48xlarge"]])
def test_an_instance_type_outside_the_allow_list_is_denied(notebook, types):
    """One variant outside the list is enough: ForAllValues needs every value in the list
    (IAM User Guide, "Set operators for multivalued context keys")."""
    assert not notebook.create_config(types)


@pytest.mark.parametrize("types", [None, []])
def test_a_request_without_instance_types_is_denied(notebook, types):
    """ForAllValues is true for a missing or empty key (IAM User Guide, "Set operators for
    multivalued context keys"): the Null check refuses an endpoint config without instance
    types (e.g. serverless), which would otherwise slip past the allow-list."""
    assert not notebook.create_config(types)


def test_creating_without_the_callers_owner_tag_is_denied(notebook):
    """Service Authorization Reference: CreateModel, CreateEndpointConfig and CreateEndpoint
    support `aws:RequestTag/${TagKey}` and `aws:TagKeys`; the owner tag must equal the
    caller's source identity, and only allowed tag keys may be set."""
    t = notebook.deploys.instance_types[0]
    assert not notebook.create_config([t], owner=None)
    assert not notebook.create_config([t], owner=BOB)
    assert not notebook.create_config([t], project="fm-studio")  # the platform's own tag key
    for action, kind in (("CreateModel", "model"), ("CreateEndpoint", "endpoint")):
        resource = notebook.arn(kind, "x")
        assert not notebook.may(action, resource, **notebook.tags(owner=None)), action
        assert not notebook.may(action, resource, **notebook.tags(owner=BOB)), action
    assert not Notebook(notebook.dep.name, user=None).create_config([t]), "no source identity: fail closed"


def test_tags_are_added_only_while_creating(notebook):
    """Service Authorization Reference: AddTags supports `sagemaker:TaggingAction` (the create
    API the tags come with); a later AddTags could otherwise claim another user's endpoint."""
    endpoint = notebook.arn("endpoint", "bobs")
    assert not notebook.may("AddTags", endpoint, **notebook.tags(), **notebook.owned(BOB))
    assert not notebook.may("AddTags", endpoint, **notebook.tags(), **{"sagemaker:TaggingAction": "AddTags"})


def test_another_users_or_the_platforms_endpoint_cannot_be_changed_or_deleted(notebook):
    """Service Authorization Reference: the endpoint, endpoint-config and model resource
    types support `sagemaker:ResourceTag/${TagKey}`; update, delete and describe need the
    caller's owner tag on the resource. The platform's endpoints carry none."""
    for owner in (BOB, None):
        for action, kind in (("DeleteEndpoint", "endpoint"), ("UpdateEndpoint", "endpoint"),
                             ("DeleteEndpointConfig", "endpoint-config"), ("DeleteModel", "model"),
                             ("CreateEndpoint", "endpoint-config")):
            assert not notebook.may(action, notebook.arn(kind, "theirs"), **notebook.owned(owner)), (action, owner)
    for endpoint in notebook.dep.resources("AWS::SageMaker::Endpoint"):
        assert not notebook.may("DeleteEndpoint", notebook.dep.arn(endpoint)), endpoint


def test_another_users_endpoint_cannot_be_invoked(notebook):
    for action in ("InvokeEndpoint", "InvokeEndpointWithResponseStream"):
        assert not notebook.may(action, notebook.arn("endpoint", "bobs"), **notebook.owned(BOB)), action


def test_the_platforms_endpoints_are_invokable(notebook):
    """The domain's own grant (StudioDomain.grant_endpoints), for any user of the domain."""
    endpoints = notebook.dep.resources("AWS::SageMaker::Endpoint")
    assert endpoints
    for endpoint in endpoints:
        for action in ("InvokeEndpoint", "InvokeEndpointWithResponseStream", "DescribeEndpoint"):
            assert notebook.may(action, notebook.dep.arn(endpoint)), (action, endpoint)


def test_no_role_but_the_notebook_model_role_can_be_passed_and_only_to_sagemaker(notebook):
    """IAM User Guide, "Grant a user permissions to pass a role to an AWS service": iam:PassRole
    on the one role, with `iam:PassedToService` sagemaker.amazonaws.com."""
    to_sagemaker = {"iam:PassedToService": "sagemaker.amazonaws.com"}
    model_role = role_arn(notebook_model_role(notebook.dep))
    assert notebook.may("iam:PassRole", model_role, **to_sagemaker)
    assert not notebook.may("iam:PassRole", model_role, **{"iam:PassedToService": "lambda.amazonaws.com"})
    others = [role_arn(r) for r in notebook.dep.resources("AWS::IAM::Role") if role_arn(r) != model_role]
    for other in [*others, f"arn:aws:iam::{ACCOUNT}:role/Admin"]:
        assert not notebook.may("iam:PassRole", other, **to_sagemaker), other


def test_a_volume_key_other_than_the_studio_key_is_denied(notebook):
    """Service Authorization Reference: CreateEndpointConfig supports `sagemaker:VolumeKmsKey`;
    a config for an EBS-backed instance may name the Studio key or none."""
    [key] = [k for k in notebook.dep.resources("AWS::KMS::Key") if k.stack == "Studio" and k.lid.startswith("Key")]
    t = "ml.c6i.xlarge" if "ml.c6i.xlarge" in notebook.deploys.instance_types else notebook.deploys.instance_types[0]
    resource = notebook.arn("endpoint-config", "cfg")
    context = {**notebook.tags(), "sagemaker:InstanceTypes": [t]}
    assert notebook.may("CreateEndpointConfig", resource, **context, **{"sagemaker:VolumeKmsKey": notebook.dep.arn(key)})
    other = f"arn:aws:kms:{notebook.region}:{ACCOUNT}:key/other"
    assert not notebook.may("CreateEndpointConfig", resource, **context, **{"sagemaker:VolumeKmsKey": other})
