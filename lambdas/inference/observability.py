"""The one place that creates Powertools' logger, tracer and metrics, for every
function of the asset (front door, summarization worker, dead-letter consumer).

Service name and namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (set per function by the stacks), so nothing is
hard-coded here.
"""

import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# No auto-patching at import: patching botocore imports it (~60-90 ms here) even for
# routes that never call AWS. ``inference.clients.new_client`` patches it before the first
# client is built, so every AWS call is still traced.
tracer = Tracer(auto_patch=False)
# Fallback namespace only so that code importing this module without the Lambda
# environment (other packages' tests, tools) cannot fail at metrics flush.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "FrontDoor")

# Discovery routes publish no metric; Powertools would warn on every such request.
warnings.filterwarnings("ignore", message="No application metrics to publish")
