"""I/O adapters (boto3). boto3 is imported lazily, on the first call, because it
alone costs ~120 ms of import time and routes such as GET /v1/models never need it."""
