"""The local SageMaker control plane the lecture notebook deploys against
(local/sagemaker_control.py): AWS's answers, errors included, through a real boto3 client."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from local.emulator import Emulator
from local.sagemaker_control import ControlPlane

ROLE = "arn:aws:iam::123456789012:role/model"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.0"


@pytest.fixture
def aws():
    emulator = Emulator().start()
    plane = ControlPlane(emulator).start()
    kwargs = dict(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    yield (boto3.client("sagemaker", endpoint_url=plane.url, **kwargs),
           boto3.client("sagemaker-runtime", endpoint_url=emulator.url, **kwargs), plane)
    plane.stop()
    emulator.stop()


def _error(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def _deploy(sm, name: str = "ep", instance: str = "ml.g5.2xlarge") -> None:
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": IMAGE, "Environment": {"MAX_INPUT_LENGTH": "100", "MAX_TOTAL_TOKENS": "200"}},
        Tags=[{"Key": "sagemaker-sdk:jumpstart-model-id", "Value": "huggingface-llm-falcon-7b-instruct-bf16"}])
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": instance, "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=[{"Key": "owner", "Value": "alice"}])


def test_an_endpoint_is_creating_then_in_service_then_answers_until_deleted(aws):
    sm, runtime, plane = aws
    _deploy(sm)
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "Creating"
    assert _error(runtime.invoke_endpoint, EndpointName="ep", Body=b'{"inputs": "hi"}')[0] == "ValidationError"
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "InService"
    body = runtime.invoke_endpoint(EndpointName="ep", Body=b'{"inputs": "hi", "parameters": {"max_new_tokens": 3}}',
                                   ContentType="application/json")["Body"].read()
    assert b"generated_text" in body
    assert _error(runtime.invoke_endpoint, EndpointName="ep",
                  Body=b'{"inputs": "hi", "parameters": {"max_new_tokens": 300}}')[0] == "ModelError"  # 200 tokens
    assert sm.list_tags(ResourceArn=sm.describe_endpoint(EndpointName="ep")["EndpointArn"])["Tags"] == [
        {"Key": "owner", "Value": "alice"}]
    sm.delete_endpoint(EndpointName="ep")
    assert _error(runtime.invoke_endpoint, EndpointName="ep", Body=b'{"inputs": "hi"}')[0] == "ValidationError"
    assert sm.list_endpoints()["Endpoints"] == []


def test_errors_are_sagemakers(aws):
    sm, _, _ = aws
    _deploy(sm)
    arn = "arn:aws:sagemaker:us-east-1:123456789012"
    assert _error(sm.create_model, ModelName="ep", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE}) == (
        "ValidationException", f'Cannot create already existing model "{arn}:model/ep".')
    assert _error(sm.create_endpoint, EndpointName="ep2", EndpointConfigName="nope") == (
        "ValidationException", f'Could not find endpoint configuration "{arn}:endpoint-config/nope".')
    assert _error(sm.describe_endpoint, EndpointName="Gone") == (
        "ValidationException", f'Could not find endpoint "{arn}:endpoint/gone".')
    assert _error(sm.delete_model, ModelName="nope")[1] == f'Could not find model "{arn}:model/nope".'
    code, message = _error(sm.create_endpoint_config, EndpointConfigName="c", ProductionVariants=[
        {"VariantName": "v", "ModelName": "ep", "InstanceType": "ml.g9.huge", "InitialInstanceCount": 1}])
    assert code == "ValidationException" and message.startswith(
        "1 validation error detected: Value 'ml.g9.huge' at 'productionVariants.1.member.instanceType' "
        "failed to satisfy constraint: Member must satisfy enum value set: [")
    assert "ml.g5.2xlarge" in message
    assert _error(sm.create_model, ModelName="bad_name", ExecutionRoleArn=ROLE,
                  PrimaryContainer={"Image": IMAGE})[1].startswith(
        "1 validation error detected: Value 'bad_name' at 'modelName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern")
    assert _error(sm.create_training_job, TrainingJobName="t", AlgorithmSpecification={"TrainingInputMode": "File"},
                  RoleArn=ROLE, OutputDataConfig={"S3OutputPath": "s3://b/"}, ResourceConfig={
                      "InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
                  StoppingCondition={"MaxRuntimeInSeconds": 60})[0] == "UnknownOperationException"
