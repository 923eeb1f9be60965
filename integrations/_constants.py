"""Timeouts and retry settings shared by every client, in one place."""

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY_SECONDS = 0.5
MAX_RETRY_DELAY_SECONDS = 8.0
# The largest Retry-After we honour; beyond it the job engine reschedules instead.
MAX_RETRY_AFTER_SECONDS = 60.0
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_ERROR_BODY_CHARS = 500
