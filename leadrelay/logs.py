"""Logging set-up, with every configured secret masked in every line."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

MASK = "***"
# Paths whose last part is a secret: a site's webhook token, the Telegram webhook's path, a
# console login link. Masked whether the token is known or not: a token that is not known
# yet (a site added in another process a moment ago, a typo of a real one) is still one.
_SECRET_PATHS = re.compile(r"(/(?:flexbe|telegram|admin/link)/)[^/\s\"'?]+")


class SecretMaskingFilter(logging.Filter):
    """Replaces secrets in the formatted message, the exception's text and traceback and the
    stack, so a token in a URL, an error or a local's repr in a traceback is hidden."""

    _traceback_formatter = logging.Formatter()

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.use(secrets)

    def use(self, secrets: Iterable[str]) -> None:
        """Mask these from now on (the stored set-up brings secrets after start-up)."""
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse a record's exc_text when it is set: this masked one.
            record.exc_text = self._traceback_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return _SECRET_PATHS.sub(rf"\g<1>{MASK}", text)


def configure_logging(level: str, secrets: Iterable[str]) -> SecretMaskingFilter:
    """Log to stderr at `level`, masking `secrets`; the filter returned takes new ones."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    masking = SecretMaskingFilter(secrets)
    handler.addFilter(masking)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Alembic narrates every schema check; only its warnings matter here.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    # httpx logs full request URLs, which carry API keys in query strings.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    return masking


def mask_in_logs(secrets: Iterable[str]) -> None:
    """Make the installed log handlers mask these secrets (a new set: earlier ones kept
    only if listed again)."""
    wanted = list(secrets)
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, SecretMaskingFilter):
                found.use(wanted)
