"""boto3 clients, built on first use.

boto3 is imported on the first client, not at module import: it alone costs
~120 ms of cold start, and the discovery routes (models, templates, OpenAPI)
never need it. The X-Ray patch of botocore is applied at the same moment.
"""

from __future__ import annotations

from typing import Any


def new_client(service: str, **config: Any) -> Any:
    """A boto3 client with botocore traced by Powertools' Tracer (when tracing is on)."""
    import boto3
    from botocore.config import Config

    from inference.observability import trace_aws

    trace_aws()
    return boto3.client(service, config=Config(**config))
