"""The two secrets of Telegram's webhook mode, derived from LEADRELAY_TELEGRAM_WEBHOOK_SECRET.

The URL path and the `X-Telegram-Bot-Api-Secret-Token` header must differ: a path leaks
more easily (proxy access logs, error pages, monitoring) than a header, and a leaked path
alone must not be enough to post updates. Both come from the one setting through
HMAC-SHA256 under two labels, so an operator keeps one secret and can never set the two
equal by mistake; the bot role's `setWebhook` and the web role's route derive the same pair.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

_PATH_LABEL = b"leadrelay telegram webhook path"
_HEADER_LABEL = b"leadrelay telegram webhook header"


@dataclass(frozen=True, slots=True)
class TelegramWebhookSecrets:
    path: str  # in /telegram/{path}
    header: str  # Telegram's X-Telegram-Bot-Api-Secret-Token


def _derive(secret: str, label: bytes) -> str:
    digest = hmac.new(secret.encode(), label, hashlib.sha256).digest()
    # URL-safe base64 without padding: 43 characters of A-Z a-z 0-9 - _, which both a URL
    # path and Telegram's secret_token (1-256 of A-Z a-z 0-9 _ -) accept.
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def derive_webhook_secrets(secret: str) -> TelegramWebhookSecrets:
    return TelegramWebhookSecrets(
        path=_derive(secret, _PATH_LABEL), header=_derive(secret, _HEADER_LABEL)
    )
