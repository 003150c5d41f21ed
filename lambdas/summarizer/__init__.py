"""Long-document summarization: token-aware map-reduce over a SageMaker text model.

Pure logic (tokens, chunking, prompts, mapreduce) has no AWS dependency so the
front door, the worker and the benchmarks share one implementation. AWS glue
lives in ``jobs``, ``sagemaker``, ``worker`` and ``routes``.
"""
