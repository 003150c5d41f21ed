"""Call the front-door API with SigV4 (IAM auth) and print the result.

    python tools/call_api.py --url https://abc123.execute-api.us-east-1.amazonaws.com/api \
        POST /v1/templates/sentiment '{"variables": {"tweet": "I love it"}}'
    python tools/call_api.py --url http://127.0.0.1:8080 --no-sign GET /v1/models

Credentials come from the usual AWS chain (env, profile, SSO). Only botocore and
the standard library are used.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def _region_from_url(url: str) -> str | None:
    parts = urlsplit(url).hostname or ""
    pieces = parts.split(".")
    # <api-id>.execute-api.<region>.amazonaws.com
    if len(pieces) >= 4 and pieces[1] == "execute-api":
        return pieces[2]
    return None


def build_request(url: str, method: str, path: str, body: str | None, *, sign: bool,
                  region: str | None, profile: str | None = None) -> urllib.request.Request:
    full_url = url.rstrip("/") + path
    data = body.encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": "application/json"} if data else {
        "Accept": "application/json"}
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Call the front-door API (SigV4-signed) and print the reply.")
    parser.add_argument("--url", required=True, help="stage URL, e.g. https://<id>.execute-api.<region>.amazonaws.com/api")
    parser.add_argument("--region", help="default: from the URL, then the AWS config")
    parser.add_argument("--profile", help="AWS profile")
    parser.add_argument("--no-sign", action="store_true", help="send unsigned (local serve)")
    parser.add_argument("--timeout", type=float, default=35.0)
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

    request = build_request(args.url, args.method, args.path, body, sign=not args.no_sign,
                            region=args.region, profile=args.profile)
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
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
