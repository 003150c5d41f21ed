"""Input size limits, apart from the heavier modules so the routes can declare
their request models without importing the summarization machinery."""

# A 5 MB text is the contract; S3 inputs may be bigger, within what one
# Lambda can hold comfortably alongside its chunks.
MAX_INLINE_TEXT_BYTES = 5 * 1024 * 1024
MAX_S3_INPUT_BYTES = 20 * 1024 * 1024
