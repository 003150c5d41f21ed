#!/bin/bash
# The streaming function's handler: the AWS Lambda Web Adapter's layer bootstrap
# (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap) execs it instead of the Python runtime, and
# forwards every invocation to the server it starts on 127.0.0.1:$AWS_LWA_PORT
# (aws/aws-lambda-web-adapter, docs/guide "Zip Packages"). The Powertools layer (with
# pydantic) is in /opt/python, the function's code in $LAMBDA_TASK_ROOT, boto3 in the
# runtime's own site-packages.
export PYTHONPATH="${LAMBDA_TASK_ROOT}:/opt/python${PYTHONPATH:+:${PYTHONPATH}}"
exec python3 -m frontdoor.stream_server --port "${AWS_LWA_PORT:-8080}"
