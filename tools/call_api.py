"""Call the front-door API with SigV4 (IAM auth) and print the result.

    python tools/call_api.py --url https://abc123.execute-api.us-east-1.amazonaws.com/api \
        POST /v1/templates/sentiment '{"variables": {"tweet": "I love it"}}'
    python tools/call_api.py --url http://127.0.0.1:8080 --no-sign GET /v1/models
    python tools/call_api.py --url https://abc123.execute-api.us-east-1.amazonaws.com/api --stream \
        POST /v1/generate/stream '{"inputs": "Write a haiku about the sea."}'

``--stream`` prints the text of each ``token`` event as it arrives (server-sent events of
the ``/stream`` routes), then the ``done`` event's finish reason and usage on stderr; an
``error`` event (the model failed mid-answer) is printed as JSON and exits 1.

Credentials come from the usual AWS chain (env, profile, SSO). Only botocore and
the standard library are used.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from typing import Any, Iterator, TextIO
from urllib.parse import urlsplit


def _region_from_url(url: str) -> str | None:
    parts = urlsplit(url).hostname or ""
    pieces = parts.split(".")
    # <api-id>.execute-api.<region>.amazonaws.com
    if len(pieces) >= 4 and pieces[1] == "execute-api":
        return pieces[2]
    return None


def build_request(url: str, method: str, path: str, body: str | None, *, sign: bool,
                  region: str | None, profile: str | None = None,
                  accept: str = "application/json") -> urllib.request.Request:
    full_url = url.rstrip("/") + path
    data = body.encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": accept} if data else {"Accept": accept}
    if sign:
        import botocore.session
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        session = botocore.session.Session(profile=profile)
        credentials = session.get_credentials()
        if credentials is None:
            raise SystemExit("no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/...)")
        region = region or _region_from_url(url) or session.get_config_variable("region")
        if not region:
            raise SystemExit("cannot tell the region: pass --region")
        aws_request = AWSRequest(method=method, url=full_url, data=data, headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(aws_request)
        headers = dict(aws_request.headers.items())
    return urllib.request.Request(full_url, data=data, method=method, headers=headers)


def read_events(response: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) of each server-sent event of ``response``, as it arrives."""
    event, data = "message", []
    while True:
        line = response.readline()
        if not line:
            return
        text = line.decode("utf-8").rstrip("\r\n")
        if not text:
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif text.startswith("event:"):
            event = text[6:].strip()
        elif text.startswith("data:"):
            data.append(text[5:].lstrip(" "))


def print_stream(response: Any, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Tokens to ``out`` (stdout) as they come; the final event's summary (or the error) to ``err`` (stderr)."""
    out, err = out or sys.stdout, err or sys.stderr
    status = 1
    for event, data in read_events(response):
        if event == "token":
            out.write(data.get("text", ""))
            out.flush()
        elif event == "done":
            out.write("\n")
            summary = {k: data.get(k) for k in ("finish_reason", "model", "usage", "label") if k in data}
            print(json.dumps(summary, ensure_ascii=False), file=err)
            status = 0
        elif event == "error":
            out.write("\n")
            print(json.dumps(data, indent=2, ensure_ascii=False), file=err)
            status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Call the front-door API (SigV4-signed) and print the reply.")
    parser.add_argument("--url", required=True, help="stage URL, e.g. https://<id>.execute-api.<region>.amazonaws.com/api")
    parser.add_argument("--region", help="default: from the URL, then the AWS config")
    parser.add_argument("--profile", help="AWS profile")
    parser.add_argument("--no-sign", action="store_true", help="send unsigned (local serve)")
    parser.add_argument("--timeout", type=float, default=35.0,
                        help="seconds to wait for the reply (with --stream: for each read; default 35)")
    parser.add_argument("--stream", action="store_true",
                        help="read server-sent events (the /stream routes) and print tokens as they arrive")
    parser.add_argument("method", choices=["GET", "POST"])
    parser.add_argument("path", help="e.g. /v1/models")
    parser.add_argument("body", nargs="?", help="JSON body, or @file.json, or - for stdin")
    args = parser.parse_args(argv)

    body = args.body
    if body == "-":
        body = sys.stdin.read()
    elif body and body.startswith("@"):
        with open(body[1:], encoding="utf-8") as handle:
            body = handle.read()
    if body is not None:
        json.loads(body)  # fail here, not with a 400 from the API

    # The Accept header is signed with the rest: chosen before signing.
    request = build_request(args.url, args.method, args.path, body, sign=not args.no_sign,
                            region=args.region, profile=args.profile,
                            accept="text/event-stream" if args.stream else "application/json")
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            if args.stream and response.headers.get_content_type() == "text/event-stream":
                print(f"HTTP {response.status}  x-request-id: {response.headers.get('x-request-id', '-')}",
                      file=sys.stderr)
                return print_stream(response)
            status, headers, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        status, headers, payload = err.code, err.headers, err.read()
    print(f"HTTP {status}  x-request-id: {headers.get('x-request-id', '-')}", file=sys.stderr)
    if headers.get("Retry-After"):
        print(f"Retry-After: {headers['Retry-After']}", file=sys.stderr)
    try:
        print(json.dumps(json.loads(payload), indent=2, ensure_ascii=False))
    except ValueError:
        print(payload.decode("utf-8", "replace"))
    return 0 if status < 400 else 1


if __name__ == "__main__":
    sys.exit(main())
