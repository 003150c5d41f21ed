"""Input size limits and the job id's form, apart from the heavier modules so the routes
can declare their request models and path parameters without importing the summarization
machinery (``jobs`` is deferred at cold start)."""

# A 5 MB text is the contract; S3 inputs may be bigger, within what one
# Lambda can hold comfortably alongside its chunks.
MAX_INLINE_TEXT_BYTES = 5 * 1024 * 1024
MAX_S3_INPUT_BYTES = 20 * 1024 * 1024

# A job id: uuid4().hex (jobs.new_job_id), the {job_id} path parameter's pattern too.
JOB_ID_PATTERN = r"^[0-9a-f]{32}$"
