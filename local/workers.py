"""The SQS event sources of the summarizer's functions, locally: threads that poll a
queue and invoke a handler with SQS events, as the event source mappings do."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable

from local.lambda_runtime import LocalContext

WORKER_TIMEOUT_S = 300.0  # as deployed (stacks/constructs/summarizer.py WORKER_TIMEOUT)
DEAD_LETTERS_TIMEOUT_S = 60.0  # as deployed (stacks/constructs/summarizer.py DEAD_LETTER_TIMEOUT)


class LocalWorker:
    """An SQS event source mapping with partial batch responses: the worker Lambda's
    (batch size 1), or the dead-letter consumer's (``batch_size=10``).

    Each batch received is one invocation of ``handler`` with an SQS event carrying
    the messages' real attributes (``ApproximateReceiveCount`` included). Messages
    not reported in ``batchItemFailures`` are deleted; failed ones (or a raising
    invocation's whole batch) come back after the queue's visibility timeout, as on AWS.
    """

    def __init__(self, sqs: Any, queue_url: str, handler: Callable[[dict, Any], dict],
                 timeout_s: float = WORKER_TIMEOUT_S, poll_s: int = 1, *, batch_size: int = 1,
                 name: str = "summarizer-worker-local") -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.batch_size = batch_size
        self.name = name
        self.arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.invocations = 0
        self._busy = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> LocalWorker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.poll_s + 5)

    def idle(self) -> bool:
        """Nothing running and nothing waiting in the queue."""
        if self._busy.is_set():
            return False
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return not self._busy.is_set() and all(v == "0" for v in attrs.values())

    def wait_idle(self, timeout_s: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.05)
        return False

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=self.poll_s,
                    AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            except Exception as exc:  # keep polling, like the event source mapping
                print(f"{self.name}: receive failed: {exc}", file=sys.stderr)
                self._stop.wait(1)
                continue
            if messages:
                self._busy.set()
                try:
                    self._invoke(messages)
                finally:
                    self._busy.clear()

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        records = [{
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}), "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": self.arn,
            "awsRegion": "us-east-1",
        } for message in messages]
        context = LocalContext(function_name=self.name, timeout_s=self.timeout_s,
                               invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{self.name}",
                               log_group_name=f"/aws/lambda/{self.name}", memory_limit_in_mb=1024)
        self.invocations += 1
        try:
            response = self.handler({"Records": records}, context) or {}
            failed = {f.get("itemIdentifier") for f in response.get("batchItemFailures", [])}
        except Exception as exc:  # a failed invocation: the whole batch returns to the queue
            print(f"{self.name}: invocation failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed = {record["messageId"] for record in records}
        for record in records:
            if record["messageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"])
