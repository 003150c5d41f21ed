"""Long-document summarization: token-aware map-reduce over a SageMaker text model.

Pure logic (chunking, prompts, the map-reduce in ``mapreduce`` with its collapse tree,
slots and per-call retries) has no AWS dependency, so the front door, the worker and the
benchmarks share one implementation. AWS glue lives in ``model`` (the model call),
``jobs`` (the job table, queue and bucket), ``worker`` and ``dead_letters`` (the
queue's two functions).
"""
