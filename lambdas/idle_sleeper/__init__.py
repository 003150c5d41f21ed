"""Idle sleeper: deletes SageMaker endpoints that had no invocations for N hours."""
