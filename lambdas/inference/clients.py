"""boto3 clients, built on first use.

boto3 is imported on the first client, not at module import: it alone costs
~120 ms of cold start, and the discovery routes (models, templates, OpenAPI)
never need it. The X-Ray patch of botocore is applied at the same moment.
"""

from __future__ import annotations

from typing import Any

_patched = False


def new_client(service: str, **config: Any) -> Any:
    """A boto3 client with botocore traced by Powertools' Tracer (when tracing is on)."""
    global _patched
    import boto3
    from botocore.config import Config

    if not _patched:
        from inference.observability import tracer

        tracer.patch(["botocore"])
        _patched = True
    return boto3.client(service, config=Config(**config))
