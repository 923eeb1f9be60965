"""The shared base of every client's exceptions.

Each error says whether trying again may help (`retryable`) and, when the service said
so, after how long (`retry_after`, seconds); the job engine reads both. Messages never
carry a secret: they are built here from status codes and bodies, never from URLs.
"""

from __future__ import annotations


class IntegrationError(Exception):
    """Something an external service did or did not do."""

    service = "external service"
    retryable = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class APIConnectionError(IntegrationError):
    """The service could not be reached."""

    retryable = True


class APITimeoutError(APIConnectionError):
    """The service did not answer in time."""


class APIStatusError(IntegrationError):
    """The service answered with an HTTP error status."""

    def __init__(
        self, message: str, *, status_code: int, body: str, retry_after: float | None = None
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status_code = status_code
        self.body = body
        self.retryable = status_code in {408, 429} or status_code >= 500


class APIResponseError(IntegrationError):
    """The service answered 2xx with something that is not what its documentation says."""

    def __init__(self, message: str, *, body: str) -> None:
        super().__init__(message)
        self.body = body


class InvalidRequest(IntegrationError):
    """The request breaks the service's documented rules, so it was refused before sending."""
