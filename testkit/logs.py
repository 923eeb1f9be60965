"""The secrets and client data the suite and the bench use, which no log line may carry.

The test suite's log scan (tests/conftest.py) and `testkit.service.Service.log_leaks` both
look for these; a token or phone number a new test or fake uses belongs here.
"""

from __future__ import annotations

FORBIDDEN_IN_LOGS = (
    "site-token-0123456789abcdef",
    "other-token-0123456789abcdef",
    "admin-token-0123456789abcdef",
    "e2e-site-token-0123456789",
    "exec-token-0123456789abcdef",
    "flexbe-key-0123456789",
    "crm5-public-token-0123456789",
    "crm5-secret-token-0123456789",
    "comunik8-key-0123456789",
    "+79991234567",
    "+7 (999) 123-45-67",
    "ivan@example.ru",
)
