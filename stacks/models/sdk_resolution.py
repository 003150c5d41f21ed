"""The SageMaker SDK's own JumpStart resolution, offline, with a file cache.

The SageMaker SDK (sagemaker-core) resolves image URIs, artifact locations and
per-instance environment from *local* metadata when both override variables
point at folders holding `models_manifest.json` and the spec files. We pin that
folder in config/jumpstart/, so synth needs neither network nor credentials.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from stacks.models.pinned import METADATA_DIR

_OVERRIDES = (
    "AWS_JUMPSTART_MANIFEST_LOCAL_ROOT_DIR_OVERRIDE",
    "AWS_JUMPSTART_SPECS_LOCAL_ROOT_DIR_OVERRIDE",
)


@contextlib.contextmanager
def _local_metadata(metadata_dir: Path) -> Iterator[None]:
    """Point the SDK at the pinned folder for the duration of the calls only."""
    saved = {k: os.environ.get(k) for k in _OVERRIDES}
    for key in _OVERRIDES:
        os.environ[key] = str(metadata_dir)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@lru_cache(maxsize=64)
def _sdk_resolve_cached(
    metadata_dir: Path, region: str, model_id: str, version: str, instance_type: str
) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    # Imported here: sagemaker-core is slow to import and only synth needs it.
    logging.getLogger("sagemaker").setLevel(logging.WARNING)
    with _local_metadata(metadata_dir):
        from sagemaker.core import environment_variables, image_uris, model_uris

        image = image_uris.retrieve(
            framework=None,
            region=region,
            image_scope="inference",
            model_id=model_id,
            model_version=version,
            instance_type=instance_type,
        )
        artifact = model_uris.retrieve(
            region=region,
            model_id=model_id,
            model_version=version,
            model_scope="inference",
            instance_type=instance_type,
        )
        env = environment_variables.retrieve_default(
            region=region,
            model_id=model_id,
            model_version=version,
            instance_type=instance_type,
            include_aws_sdk_env_vars=False,
        )
    return image, artifact, tuple(sorted((k, str(v)) for k, v in env.items()))


class ResolutionCache:
    """A file cache of SDK resolutions, keyed by everything the answer depends on.

    Importing sagemaker-core costs ~1 s per synth, more than a third of a small
    app's synth time. The answer is a pure function of the pinned metadata files,
    the SDK version and the (region, model, version, instance) asked about, so a
    key over all of them makes stale hits impossible: a metadata refresh or SDK
    upgrade changes every key.
    """

    def __init__(self, path: Path, metadata_dir: Path = METADATA_DIR):
        self.path = path
        self._entries: dict[str, list] = json.loads(path.read_text()) if path.is_file() else {}
        digest = hashlib.sha256(importlib.metadata.version("sagemaker-core").encode())
        for file in sorted(metadata_dir.rglob("*.json")):
            digest.update(file.relative_to(metadata_dir).as_posix().encode() + file.read_bytes())
        self._salt = digest.hexdigest()

    def key(self, *parts: str) -> str:
        return hashlib.sha256("|".join((self._salt, *parts)).encode()).hexdigest()

    def get(self, key: str) -> list | None:
        return self._entries.get(key)

    def put(self, key: str, value: list) -> None:
        self._entries[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self._entries, indent=0, sort_keys=True))


def sdk_resolve(
    metadata_dir: Path,
    region: str,
    model_id: str,
    version: str,
    instance_type: str,
    cache: ResolutionCache | None = None,
) -> tuple[str, str, dict[str, str]]:
    key = cache.key(region, model_id, version, instance_type) if cache else ""
    hit = cache.get(key) if cache else None
    if hit is None:
        image, artifact, env = _sdk_resolve_cached(metadata_dir, region, model_id, version, instance_type)
        hit = [image, artifact, dict(env)]
        if cache:
            cache.put(key, hit)
    image, artifact, env = hit
    return image, artifact, dict(env)
