"""Every public layer a function uses fits the function: same Region, same architecture,
and (Powertools) the same Python runtime.

Layer ARNs are strings CloudFormation does not check against the function: a layer of the
other architecture or another Python minor version deploys and then fails at import time
(Powertools ships compiled pydantic-core), and a layer of another Region is refused by
CreateFunction. The functions pin two public layers: Powertools for AWS Lambda (Python) v3
(every PythonFunction with powertools, among them the idle-endpoint checker) and the
Lambda Web Adapter (the streaming function).
"""

from __future__ import annotations

import re

from tests.deploy.model import assert_none, listify

# Powertools for AWS Lambda (Python), "Lambda Layer" (Install page),
# https://docs.powertools.aws.dev/lambda/python/latest/#lambda-layer :
# arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-{python_version}-{architecture}:{version}
# with python_version python39 ... python313 and architecture x86_64 or arm64.
POWERTOOLS = re.compile(
    r"^arn:[\w-]+:lambda:(?P<region>[\w-]+):017000801446:layer:"
    r"AWSLambdaPowertoolsPythonV3-python(?P<python>\d+)-(?P<arch>x86_64|arm64):\d+$"
)
# AWS Lambda Web Adapter README, "Lambda functions packaged as Zip package for AWS managed
# runtimes", https://github.com/awslabs/aws-lambda-web-adapter :
# arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerX86:N / LambdaAdapterLayerArm64:N
WEB_ADAPTER = re.compile(
    r"^arn:[\w-]+:lambda:(?P<region>[\w-]+):753240598075:layer:LambdaAdapterLayer(?P<arch>X86|Arm64):\d+$"
)
ADAPTER_ARCH = {"X86": "x86_64", "Arm64": "arm64"}


def test_public_layers_match_their_function(deployment):
    """Every layer of every function is a known public layer (Powertools v3 or the Lambda Web
    Adapter) in the function's Region, built for the function's architecture, and for
    Powertools for the function's Python version.

    Sources: AWS Lambda Developer Guide, "Adding layers to functions" (the layer must be in
    the function's Region; it must be compatible with the function's runtime and instruction
    set architecture), https://docs.aws.amazon.com/lambda/latest/dg/adding-layers.html ;
    the Powertools and Web Adapter ARN formats above.
    """
    dep = deployment
    problems, checked = [], 0
    for function in dep.resources("AWS::Lambda::Function"):
        arch = (listify(function.props.get("Architectures")) or ["x86_64"])[0]
        runtime = function.props.get("Runtime") or ""
        for layer in listify(function.props.get("Layers")):
            arn = dep.render(function.stack, layer) or ""
            checked += 1
            if match := POWERTOOLS.match(arn):
                python = "python" + runtime.removeprefix("python").replace(".", "")
                if f"python{match['python']}" != python:
                    problems.append(f"{dep.name}: {function} runs {runtime} with Powertools layer {arn}")
                layer_arch = match["arch"]
            elif match := WEB_ADAPTER.match(arn):
                layer_arch = ADAPTER_ARCH[match["arch"]]
            else:
                problems.append(f"{dep.name}: {function} uses an unknown layer {arn!r}")
                continue
            if layer_arch != arch:
                problems.append(f"{dep.name}: {function} is {arch}, its layer {arn} is {layer_arch}")
            if match["region"] != dep.region:
                problems.append(f"{dep.name}: {function} is in {dep.region}, its layer {arn} is not")
    assert checked, f"{dep.name}: no function layer found to check"
    assert_none(problems, "A function's layers must match its Region, architecture and runtime")
