"""Every way a provider says no, classified once (app/providers/base.py): the kind the person is shown, whether
it is worth retrying, and how long the provider asked to wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from app.providers.base import ErrorKind, error_from_status, retry_after_seconds

OPENAI_QUOTA = {
    "message": "You exceeded your current quota",
    "type": "insufficient_quota",
    "code": "insufficient_quota",
}
ANTHROPIC_OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


@pytest.mark.parametrize(
    ("status", "body", "kind", "transient"),
    [
        (429, {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}, "RATE_LIMIT", True),
        (429, OPENAI_QUOTA, "RATE_LIMIT", False),  # out of quota: waiting will not help
        (200, {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}, "RATE_LIMIT", True),
        (529, {"message": "Overloaded"}, "OVERLOADED", True),
        (200, ANTHROPIC_OVERLOADED, "OVERLOADED", True),  # an error event inside a stream that began with 200
        (401, {"message": "Incorrect API key provided", "code": "invalid_api_key"}, "AUTH", False),
        (403, {"message": "Forbidden"}, "AUTH", False),
        (400, {"type": "error", "error": {"type": "permission_error", "message": "no"}}, "AUTH", False),
        (404, {"message": "The model does not exist"}, "NOT_FOUND", False),
        (408, {"message": "Request timed out"}, "TIMEOUT", True),
        (409, {"message": "Conflict"}, "UPSTREAM", True),  # a conflict clears up: retried
        (400, {"message": "max_tokens is too large"}, "BAD_REQUEST", False),
        (422, None, "BAD_REQUEST", False),
        (500, "Internal Server Error", "UPSTREAM", True),
        (502, None, "UPSTREAM", True),
        (503, {"message": "Service Unavailable"}, "UPSTREAM", True),
    ],
)
def test_each_status_and_error_type_is_one_kind_of_error(status, body, kind, transient):
    error = error_from_status("Provider", status, body, None, "fallback words")

    assert (error.kind, error.transient) == (ErrorKind(kind), transient)
    assert error.status_code == status


def test_the_providers_own_words_are_kept_and_a_fallback_fills_in_for_none():
    said = error_from_status("Anthropic", 200, ANTHROPIC_OVERLOADED, None, "fallback")
    silent = error_from_status("OpenAI", 502, None, None, "Bad gateway")

    assert said.message == "Anthropic: the service is overloaded. Overloaded"
    assert silent.message == "OpenAI: the provider reported an error (HTTP 502). Bad gateway"


IN_A_MINUTE = "<an HTTP date a minute from now>"  # written when the test runs


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "7"}, 7),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "7"}, 0.25),  # the precise one wins, as the SDKs read it
        ({"retry-after-ms": "soon", "retry-after": "3"}, 3),
        ({"retry-after": IN_A_MINUTE}, 60),  # an HTTP date
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0),  # a date gone by: no wait, never a negative one
        ({"retry-after": "-4"}, 0),
        ({"retry-after": "later"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_is_read_in_every_form_providers_send(headers, seconds):
    if headers and headers.get("retry-after") == IN_A_MINUTE:
        headers = {"retry-after": format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)}
    found = retry_after_seconds(headers)

    assert found == seconds if seconds is None else found == pytest.approx(seconds, abs=2)


def test_retry_after_travels_with_the_error():
    error = error_from_status("OpenAI", 429, {"message": "slow down"}, {"retry-after": "12"}, "")

    assert error.retry_after == 12 and error.kind == ErrorKind.RATE_LIMIT
