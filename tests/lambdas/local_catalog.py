"""The model catalog and operator template the local stack runs with, shared by the
front-door/summarizer tests (tests/lambdas/conftest.py) and bench/openapi_fuzz_bench.py.

A plain module (not the conftest): the bench imports it, and importing a conftest as a
module would execute it a second time under another name.
"""

from __future__ import annotations

from typing import Any

# Every family the front door speaks (their rules differ) and both kinds.
CATALOG: list[dict[str, Any]] = [
    {"name": "falcon-7b-instruct", "model_id": "huggingface-llm-falcon-7b-instruct-bf16",
     "endpoint_name": "ep-falcon", "family": "falcon", "kind": "text", "max_input_length": 1024,
     "max_total_tokens": 2048, "instance_type": "ml.g5.2xlarge", "instance_count": 1, "default": True},
    {"name": "llama-2-7b-chat", "model_id": "meta-textgeneration-llama-2-7b-f", "endpoint_name": "ep-llama",
     "family": "llama2", "kind": "text", "max_input_length": 4095, "max_total_tokens": 4096,
     "instance_type": "ml.g5.12xlarge", "instance_count": 1, "default": False},
    {"name": "mistral-7b-instruct", "model_id": "huggingface-llm-mistral-7b-instruct", "endpoint_name": "ep-mistral",
     "family": "mistral", "kind": "text", "max_input_length": 4095, "max_total_tokens": 4096,
     "instance_type": "ml.g5.12xlarge", "instance_count": 1, "default": False},
    {"name": "flan-t5-xl", "model_id": "huggingface-text2text-flan-t5-xl", "endpoint_name": "ep-flan",
     "family": "flan-t5", "kind": "text", "max_input_length": 1024, "max_total_tokens": 2048,
     "instance_type": "ml.g5.2xlarge", "instance_count": 1, "default": False},
    {"name": "j2-mid", "model_id": "ai21-j2-mid", "endpoint_name": "ep-j2", "family": "ai21-j2", "kind": "text",
     "max_input_length": 8000, "max_total_tokens": 8191, "instance_type": "ml.g5.12xlarge", "instance_count": 1,
     "default": False},
    {"name": "sd-2-1-base", "model_id": "model-txt2img-stabilityai-stable-diffusion-v2-1-base",
     "endpoint_name": "ep-sd", "family": "stable-diffusion", "kind": "image", "max_input_length": None,
     "max_total_tokens": None, "instance_type": "ml.p3.2xlarge", "instance_count": 1, "default": True},
]

OPERATOR_TEMPLATES = [{
    "name": "haiku",
    "description": "An operator-added template: a haiku about a topic.",
    "template": "Write a haiku about ${topic}.",
    "variables": [{"name": "topic", "description": "Topic", "max_chars": 100}],
    "parameters": {"max_new_tokens": 30},
}]
