"""A SageMaker runtime emulator for tests and local runs.

Speaks the wire protocol of ``InvokeEndpoint`` (``POST /endpoints/{name}/invocations``,
service protocol ``rest-json``; and ``InvokeEndpointWithResponseStream``, see
``local.emulator.streaming``) well enough for a real boto3 ``sagemaker-runtime``
client pointed at it with ``endpoint_url`` (or ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME``)
and dummy credentials. Errors carry ``x-amzn-ErrorType`` so botocore raises the
modeled exceptions: ValidationError 400, ThrottlingException 400, ModelError 424
(with OriginalStatusCode / OriginalMessage / LogStreamArn), ModelNotReadyException
429, InternalFailure 500, ServiceUnavailable 503.

Model behaviour, deterministic so tests can assert on it:
- TGI families (falcon, llama2, mistral, flan-t5): TGI's parameter checks and its
  exact validation texts, token limits (MAX_INPUT_LENGTH / MAX_TOTAL_TOKENS) with
  the emulator's *own* token counter, stop sequences honoured and left in the
  output, ``details`` and ``return_full_text``. Output is a hash-seeded word
  sequence of exactly ``max_new_tokens`` tokens, except: few-shot prompts
  ("Sentiment:", "=>") continue with one of the example answers, "categories: a,
  b" prompts answer one category, and summarization prompts get an extract of the
  leading sentences of the document.
- stable-diffusion: ``Accept: application/json;jpeg`` -> real (tiny, solid-grey)
  baseline JPEGs of the requested size, base64 in ``generated_images``.
- hf-embedding (JumpStart sentence-similarity models, e.g. bge-base-en-v1.5, on the Hugging
  Face inference container): ``{"text_inputs": [...], "mode": "embedding"}`` (or
  ``application/x-text``) -> ``{"embedding": [[...], ...]}``, a hash-seeded unit vector of
  ``dimensions`` (768) per input; a malformed body is the toolkit's 400
  ``{"code": 400, "type": "InternalServerException", "message": ...}``.
- ai21-j2 (AWS Marketplace Jurassic-2): ``{prompt, maxTokens, temperature, topP,
  stopSequences, numResults}`` -> ``{completions: [{data: {text, tokens}, finishReason:
  {reason}}]}``, ``numResults`` completions (identical when temperature is 0), the stop
  sequence left out of the text, prompt + maxTokens within the instance's context.

Inference components (ICs): several models behind one endpoint name, each an
``EndpointConfig`` with the endpoint's ``name`` and its own ``inference_component``
(and its own latency and limits), selected by the ``InferenceComponentName`` parameter
(header ``X-Amzn-SageMaker-Inference-Component``). As SageMaker, an endpoint hosting
ICs refuses a call without the header and one without ICs refuses the header
(ValidationError 400, ``IC_REQUIRED`` / ``IC_NOT_ALLOWED``), and an IC whose
``copies`` are 0 (scaled to zero) answers ValidationError 400 ``NO_CAPACITY_MESSAGE``.
Scale-out as the NoCapacityInvocationFailures alarm + step scaling policy do it: the
first call that meets no capacity starts a clock, and ``scale_out_after_s`` later the
IC has 1 copy (None: only ``scale`` brings copies back). ``scale`` sets copies, now or
after N more answered calls (a scale-in in the middle of a job).

Faults and latency, per endpoint or IC (control API or Python) and per request (header
``x-emulator-fault`` or a ``[[emulator:FAULT]]`` marker anywhere in the body):
``throttle``, ``not-ready``, ``unavailable``, ``internal``, ``model-error``,
``delay=MS``. Control API:

    GET    /_emulator/health
    GET    /_emulator/endpoints          POST /_emulator/endpoints {EndpointConfig fields}
    POST   /_emulator/components {"inference_component": name, "copies": N,
                                  "scale_out_after_s": S|null (optional), "after_calls": N (optional)}
    POST   /_emulator/faults {"endpoint": "*"|endpoint or IC name, "throttle_next": N, "not_ready_next": N,
                              "unavailable_next": N, "internal_next": N, "model_error_next": N,
                              "delay_next": N, "delay_ms": MS,
                              "fail_if_contains": [{"text": X, "status": 424-original, "message": M}]}
    DELETE /_emulator/faults             GET/DELETE /_emulator/calls      POST /_emulator/reset

Modules: ``models`` (each family's container, ``EndpointConfig``), ``generation`` (the
emulator's tokens and text), ``jpeg``, ``faults``, ``eventstream`` (the stream's wire
encodings), ``api`` (SageMaker's fixed values and texts), ``server`` (``Emulator``: state
and control), ``handler`` and ``streaming`` (the HTTP requests), ``__main__`` (the CLI).

Run: ``python -m local.emulator --port 8081 --endpoint falcon:falcon`` (ICs:
``--component shared:ic-falcon:falcon``) or in-process:
``Emulator([EndpointConfig("e", "falcon")]).start()`` (port 0 = any).
"""

from local.emulator.api import (ACCOUNT, IC_HEADER, IC_NOT_ALLOWED, IC_REQUIRED, MAX_PAYLOAD_BYTES,
                                NO_CAPACITY_MESSAGE, REGION)
from local.emulator.eventstream import EVENTSTREAM, eventstream_message, payload_part, stream_exception
from local.emulator.faults import STREAM_FAULTS, Faults
from local.emulator.generation import count_tokens, generate_text
from local.emulator.jpeg import solid_jpeg
from local.emulator.models import (FAMILIES, TGI_FAMILIES, EndpointConfig, ModelErr, ai21_invoke, embedding_invoke,
                                   sd_invoke, tgi_invoke, tgi_stream_events)
from local.emulator.server import Emulator

__all__ = [
    "ACCOUNT", "EVENTSTREAM", "FAMILIES", "IC_HEADER", "IC_NOT_ALLOWED", "IC_REQUIRED", "MAX_PAYLOAD_BYTES",
    "NO_CAPACITY_MESSAGE", "REGION", "STREAM_FAULTS", "TGI_FAMILIES", "Emulator", "EndpointConfig", "Faults",
    "ModelErr", "ai21_invoke", "count_tokens", "embedding_invoke", "eventstream_message", "generate_text", "payload_part", "sd_invoke",
    "solid_jpeg", "stream_exception", "tgi_invoke", "tgi_stream_events",
]
