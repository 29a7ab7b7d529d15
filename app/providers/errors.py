"""Turns the exceptions of a Stainless-generated SDK (OpenAI, Anthropic and Together all are) into ProviderError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from app.providers.base import ErrorKind, ProviderError, connection_error, error_from_status


@contextmanager
def translated_errors(provider: str, sdk: ModuleType, http: ModuleType) -> Iterator[None]:
    """`sdk` is the SDK's module, `http` the HTTP library it streams with: a connection dropped mid-stream
    surfaces as that library's error, not the SDK's, because the SDK only wraps errors before the response."""
    try:
        with transport_errors(provider, http):
            yield
    except sdk.APIStatusError as error:
        # Also a mid-stream Anthropic error event: it arrives after HTTP 200, so the status says 200.
        status, headers = error.status_code, error.response.headers
        raise error_from_status(provider, status, error.body, headers, error.message) from error
    except sdk.APITimeoutError as error:
        raise connection_error(provider, error, timed_out=True) from error
    except sdk.APIConnectionError as error:
        raise connection_error(provider, error) from error
    except sdk.APIError as error:
        # An `{"error": ...}` event inside an OpenAI-style stream.
        raise error_from_status(provider, 200, error.body, None, error.message) from error


@contextmanager
def transport_errors(provider: str, http: ModuleType) -> Iterator[None]:
    """The HTTP library's own errors (a connection dropped mid-stream, a read that timed out), and a stream that
    cannot be decoded, as ProviderError: every SDK meets them the same way."""
    try:
        yield
    except http.TimeoutException as error:
        raise connection_error(provider, error, timed_out=True) from error
    except http.HTTPError as error:
        raise connection_error(provider, error) from error
    except ValueError as error:
        # The SDK's event decoder meeting invalid JSON or invalid UTF-8: the provider's fault, not ours.
        raise malformed_stream(provider, f"{type(error).__name__}: {str(error)[:200]}") from error


def malformed_stream(provider: str, what: str) -> ProviderError:
    return ProviderError(ErrorKind.UPSTREAM, provider, f"Its stream could not be read ({what}).", transient=True)


def require_event_stream(provider: str, response: object) -> None:
    """A 200 answer that is a web page (a proxy's or a captive portal's, say) is no stream of tokens."""
    content_type = getattr(response, "headers", {}).get("content-type", "")
    if content_type.startswith("text/html"):
        raise malformed_stream(provider, f"it answered with a web page, {content_type}, instead of a stream")
