"""The SageMaker runtime API's fixed parts, as the emulator answers: the account and
region in its ARNs, the payload limit, the inference-component header, and SageMaker's
own wording of the ValidationErrors the handler answers."""

ACCOUNT = "123456789012"
REGION = "us-east-1"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
# botocore's sagemaker-runtime model: InvokeEndpoint's InferenceComponentName travels in this header.
IC_HEADER = "X-Amzn-SageMaker-Inference-Component"
# InvokeEndpoint on an IC with no copy: ValidationError (400), verbatim as AWS shows it
# in "Unlock cost savings with the new scale down to zero feature in SageMaker Inference"
# (AWS Machine Learning Blog, 2024-12-03, "Test the solution"); inference.runtime maps it.
NO_CAPACITY_MESSAGE = ("Inference Component has no capacity to process this request. ApplicationAutoScaling "
                       "may be in-progress (if configured) or try to increase the capacity by invoking "
                       "UpdateInferenceComponentRuntimeConfig API.")
# The header missing on an endpoint with ICs, or present on one without (ValidationError 400),
# as SageMaker words them (quoted by SDK users, e.g. LiteLLM's SageMaker tests).
IC_REQUIRED = ("Inference Component Name header is required for endpoints to which you plan to deploy inference "
               "components. Please include Inference Component Name header or consider using SageMaker models.")
IC_NOT_ALLOWED = ("Inference Component Name header is not allowed for endpoints to which you dont plan to deploy "
                  "inference components. Please remove the Inference Component Name header and try again.")
