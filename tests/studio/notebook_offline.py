"""Offline AWS for the lecture notebook's end-to-end test (tests/studio/test_lecture_notebook.py).

The notebook runs unchanged, in a kernel of `.venv-notebook` (`make notebook-setup`: the real
SageMaker Python SDK, whose 2.x line, the last with `JumpStartModel`, cannot share a venv with
the app's sagemaker-core 2.x), with every AWS endpoint pointed at a local service:

- S3 (and STS, and anything else): a moto server holding the pinned JumpStart metadata
  (config/jumpstart, plus the TGI models' predictor specs, below) in the real content bucket
  of the region, `jumpstart-cache-prod-<region>`, where the SDK reads the manifest and specs
  (no override variable: the SDK's own S3 path);
- SageMaker: the project's control plane (local/sagemaker_control.py);
- SageMaker runtime: the project's emulator, which answers once the endpoint is InService.

The one test-only change inside the kernel is the clock: the SDK polls DescribeEndpoint every
30 s while an endpoint is Creating (Session.wait_for_endpoint); an IPython start-up file makes
that 0.1 s. Telemetry is opted out through the SDK's own config file (no network).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import boto3

from local.emulator import REGION, Emulator
from local.moto_backend import MotoProcess
from local.sagemaker_control import ControlPlane

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK_PYTHON = REPO / ".venv-notebook" / "bin" / "python"
JUMPSTART_METADATA = REPO / "config" / "jumpstart"
KERNEL = "fm-lecture-notebook"
# The one field the SDK's deploy needs that the pinned specs lack: they are derived from the
# facts catalogue (tools/jumpstart_metadata.py), which has no predictor specs. The bucket's
# TGI specs carry these (JSON in, JSON out); the SDK builds the Predictor's serializers from them.
TGI_PREDICTOR_SPECS = {
    "supported_content_types": ["application/json"], "supported_accept_types": ["application/json"],
    "default_content_type": "application/json", "default_accept_type": "application/json",
}

_FAST_CLOCK = """\
# Test clock only: the SDK waits 30 s between DescribeEndpoint polls; the local control plane
# reports Creating for one poll, then InService.
import sagemaker.session as _session
_session.Session.wait_for_endpoint.__defaults__ = (0.1, False)
"""
_SDK_CONFIG = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


class OfflineAws:
    """moto (S3 with JumpStart's metadata), the control plane and the runtime emulator."""

    def __init__(self) -> None:
        self.moto = MotoProcess()
        try:
            self.emulator = Emulator().start()
            self.control = ControlPlane(self.emulator).start()
            self._upload_jumpstart_metadata()
        except BaseException:
            self.stop()
            raise

    def _upload_jumpstart_metadata(self) -> None:
        s3 = boto3.client("s3", endpoint_url=self.moto.url, region_name=REGION,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        bucket = f"jumpstart-cache-prod-{REGION}"
        s3.create_bucket(Bucket=bucket)
        for path in sorted(JUMPSTART_METADATA.rglob("*.json")):
            body = json.loads(path.read_text())
            if path.name.startswith("specs_") and body["model_id"].startswith("huggingface-llm-"):
                body.setdefault("predictor_specs", TGI_PREDICTOR_SPECS)
            s3.put_object(Bucket=bucket, Key=path.relative_to(JUMPSTART_METADATA).as_posix(),
                          Body=json.dumps(body).encode())

    def env(self, scratch: Path) -> dict[str, str]:
        """The kernel's environment: dummy credentials, each service's local endpoint."""
        ipython = scratch / "ipython"
        (ipython / "profile_default" / "startup").mkdir(parents=True, exist_ok=True)
        (ipython / "profile_default" / "startup" / "00-fast-clock.py").write_text(_FAST_CLOCK)
        (scratch / "sagemaker-config.yaml").write_text(_SDK_CONFIG)
        return {
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(scratch / "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "none"),
            "AWS_ENDPOINT_URL": self.moto.url,
            "AWS_ENDPOINT_URL_S3": self.moto.url,
            "AWS_ENDPOINT_URL_SAGEMAKER": self.control.url,
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": self.emulator.url,
            "SAGEMAKER_USER_CONFIG_OVERRIDE": str(scratch / "sagemaker-config.yaml"),
            "IPYTHONDIR": str(ipython),
        }

    def stop(self) -> None:
        for part in ("control", "emulator", "moto"):
            if hasattr(self, part):
                getattr(self, part).stop()


def write_kernelspec(scratch: Path, env: dict[str, str]) -> Path:
    """A kernelspec running ipykernel in `.venv-notebook` with `env`; returns its kernels dir."""
    kernels = scratch / "kernels"
    (kernels / KERNEL).mkdir(parents=True, exist_ok=True)
    (kernels / KERNEL / "kernel.json").write_text(json.dumps({
        "argv": [str(NOTEBOOK_PYTHON), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "lecture notebook (offline)", "language": "python", "env": env,
    }))
    return kernels


def run_lifecycle_script(script: str, home: Path, user_profile: str) -> Path:
    """Run the lifecycle configuration's script as Studio would at start-up, in `home`, with
    a resource-metadata file naming `user_profile`; returns the notebook's directory."""
    metadata = home.parent / "resource-metadata.json"
    metadata.write_text(json.dumps({"DomainId": "d-local", "SpaceName": f"{user_profile}-space",
                                    "UserProfileName": user_profile, "AppType": "JupyterLab"}))
    subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True, timeout=60,
                   env={"HOME": str(home), "PATH": "/usr/bin:/bin", "FM_RESOURCE_METADATA": str(metadata)})
    return home / "fm-platform"
