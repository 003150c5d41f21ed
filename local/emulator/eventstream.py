"""The wire encodings of InvokeEndpointWithResponseStream's answer.

POST /endpoints/{name}/invocations-response-stream answers HTTP 200 with
Content-Type application/vnd.amazon.eventstream: a sequence of event-stream messages
(the AWS event stream encoding, as botocore's ``botocore.eventstream`` parses it):

  prelude  total length (uint32 BE) | headers length (uint32 BE) | CRC32 of those 8 bytes
  headers  per header: name length (uint8), name, value type (7 = string), value length
           (uint16 BE), value
  payload
  CRC32 of everything before it

PayloadPart events carry ``:event-type PayloadPart``, ``:message-type event``,
``:content-type application/octet-stream`` and the model's bytes; a failure after the
start is an exception message (``:message-type exception``, ``:exception-type
ModelStreamError | InternalStreamFailure``, a JSON payload {Message, ErrorCode}) --
the shapes of botocore's sagemaker-runtime model (``ResponseStream``). Every message goes
out as its own HTTP chunk, so botocore's reader gets each one as it is sent.

Inside the parts, TGI's server-sent events (``sse_line``), cut at random byte offsets
(``split_parts``).
"""

from __future__ import annotations

import json
import random
from typing import Any

EVENTSTREAM = "application/vnd.amazon.eventstream"


def eventstream_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One message of the AWS event stream encoding (string headers only)."""
    import zlib

    encoded = b"".join(
        len(name.encode()).to_bytes(1, "big") + name.encode() + b"\x07"
        + len(value.encode()).to_bytes(2, "big") + value.encode()
        for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = total.to_bytes(4, "big") + len(encoded).to_bytes(4, "big")
    prelude += zlib.crc32(prelude).to_bytes(4, "big")
    message = prelude + encoded + payload
    return message + zlib.crc32(message).to_bytes(4, "big")


def payload_part(data: bytes) -> bytes:
    return eventstream_message({":event-type": "PayloadPart", ":content-type": "application/octet-stream",
                                ":message-type": "event"}, data)


def stream_exception(kind: str, message: str, error_code: str | None = None) -> bytes:
    body: dict[str, Any] = {"Message": message}
    if error_code:
        body["ErrorCode"] = error_code
    return eventstream_message({":exception-type": kind, ":content-type": "application/json",
                                ":message-type": "exception"}, json.dumps(body).encode())


def sse_line(event: dict[str, Any]) -> bytes:
    return b"data:" + json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def split_parts(data: bytes, rng: random.Random) -> list[bytes]:
    """``data`` cut into 1-3 pieces at random byte offsets."""
    if len(data) < 2:
        return [data]
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 2))))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]
