"""A check's result, and how AWS errors become results or stop the run."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import (ClientError, CredentialRetrievalError, NoCredentialsError, PartialCredentialsError,
                                 ProfileNotFound, SSOError, TokenRetrievalError)

NO_CREDENTIALS = (NoCredentialsError, PartialCredentialsError, ProfileNotFound, SSOError,
                  TokenRetrievalError, CredentialRetrievalError)
# Credentials that exist but do not work: every call fails the same way.
BAD_CREDENTIALS = {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                   "UnrecognizedClientException", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


@dataclass(frozen=True)
class Result:
    check: str
    subject: str
    status: str  # PASS, WARN, FAIL or SKIP
    detail: str
    fix: str = ""


class CannotRun(Exception):
    """Preflight can say nothing about the account; the message is one line."""


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def guarded(check: str, fn, *args) -> list[Result]:
    """A check the caller may not run (e.g. AccessDenied) is a warning, not a verdict."""
    try:
        return fn(*args)
    except ClientError as exc:
        if error_code(exc) in BAD_CREDENTIALS:
            raise
        return [Result(check, exc.operation_name, "WARN", f"could not check: {error_code(exc)}",
                       "run with a role that may read it (e.g. the ReadOnlyAccess managed policy)")]
