"""A loopback stand-in for DynamoDB's GetItem, for benches (bench/openai_bench.py).

It speaks what the tenant authorizer's key lookup sends and reads back: the JSON 1.0 protocol
(``X-Amz-Target: DynamoDB_20120810.GetItem``), an item found by its exact key or ``{}``,
anything else refused as DynamoDB refuses an unknown operation. Items live in memory. It
answers at loopback latency, so a bench times the caller (boto3, our code) rather than a
backend: moto's server takes tens of milliseconds per GetItem on a loaded 2-core machine,
DynamoDB single-digit milliseconds in-region, and neither is what the bench is about.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GET_ITEM = "DynamoDB_20120810.GetItem"


def item_key(table: str, key: dict[str, Any]) -> str:
    return table + "\n" + json.dumps(key, sort_keys=True)


class _Handler(BaseHTTPRequestHandler):
    server: DynamoDBStub
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if self.headers.get("X-Amz-Target") != GET_ITEM:
            status, answer = 400, {"__type": "com.amazon.coral.service#UnknownOperationException"}
        else:
            item = self.server.items.get(item_key(body.get("TableName", ""), body.get("Key", {})))
            status, answer = 200, ({"Item": item} if item else {})
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("x-amzn-RequestId", uuid.uuid4().hex)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class DynamoDBStub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, items: dict[str, dict[str, Any]]) -> None:
        """``items``: ``item_key(table, key)`` -> the item (DynamoDB's typed JSON)."""
        super().__init__(("127.0.0.1", 0), _Handler)
        self.items = items
        threading.Thread(target=self.serve_forever, name="dynamodb-stub", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@contextlib.contextmanager
def key_table(kind: str, table: str, item: dict[str, Any]):
    """An endpoint URL whose ``table`` holds ``item`` (keyed by ``key_hash``): ``stub`` (this
    module) or ``moto`` (moto's server: DynamoDB's wire protocol, moto's own latency)."""
    if kind == "stub":
        stub = DynamoDBStub({item_key(table, {"key_hash": item["key_hash"]}): item})
        yield stub.url
        stub.stop()
        return
    import boto3
    from local.moto_backend import start_moto

    moto, url = start_moto()
    client = boto3.client("dynamodb", endpoint_url=url)
    client.create_table(TableName=table, AttributeDefinitions=[{"AttributeName": "key_hash", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "key_hash", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    client.put_item(TableName=table, Item=item)
    yield url
    moto.stop()
