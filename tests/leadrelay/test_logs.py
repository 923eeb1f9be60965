"""Secrets never reach a log line."""

from __future__ import annotations

import logging

import pytest

from leadrelay.logs import MASK, SecretMaskingFilter, configure_logging

SECRET = "tok-0123456789abcdef"


def test_filter_masks_secrets_in_message_and_arguments() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "POST %s"',
        ("1.2.3.4", f"/flexbe/{SECRET}"),
        None,
    )

    SecretMaskingFilter([SECRET, "other"]).filter(record)

    assert record.getMessage() == f'1.2.3.4 - "POST /flexbe/{MASK}"'


@pytest.mark.parametrize(
    "path",
    [
        "/flexbe/not-known-here-yet-0123456789",
        "/telegram/derived-path-0123456789abcdef",
        "/admin/link/login-token-0123456789",
    ],
)
def test_a_secret_path_is_masked_even_when_its_token_is_not_known(path: str) -> None:
    # A site added in another process a moment ago, or a typo of a real token: the access
    # log's line of its 404 keeps the token out too.
    masked = SecretMaskingFilter([]).mask(f'1.2.3.4 - "POST {path}?x=1 HTTP/1.1" 404')

    assert path.rsplit("/", 1)[1] not in masked
    assert f'"POST {path.rsplit("/", 1)[0]}/{MASK}?x=1 HTTP/1.1" 404' in masked


def test_longer_secret_containing_a_shorter_one_is_masked_whole() -> None:
    masking = SecretMaskingFilter(["abc", "abcdef"])

    assert masking.mask("key=abcdef") == f"key={MASK}"


@pytest.mark.writes_secrets
def test_configured_logging_masks_every_handler_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [SECRET])

    logging.getLogger("leadrelay.anything").warning("calling https://x/?api_key=%s", SECRET)

    err = capsys.readouterr().err
    assert SECRET not in err
    assert f"api_key={MASK}" in err


def _raise_with_secret_in_traceback(token: str) -> None:
    url = f"https://api.example/bot{token}/getMe"
    raise RuntimeError(f"request to {url} failed")


@pytest.mark.writes_secrets
def test_exception_text_and_traceback_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [SECRET])

    try:
        _raise_with_secret_in_traceback(SECRET)
    except RuntimeError:
        logging.getLogger("leadrelay.anything").exception("Telegram call failed")

    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: request to https://api.example/bot***/getMe failed" in err
    assert SECRET not in err


@pytest.mark.writes_secrets
def test_masked_traceback_is_what_every_handler_formats() -> None:
    try:
        _raise_with_secret_in_traceback(SECRET)
    except RuntimeError as exc:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed", None, (type(exc), exc, exc.__traceback__)
        )

    SecretMaskingFilter([SECRET]).filter(record)
    formatted = logging.Formatter("%(message)s").format(record)

    assert SECRET not in formatted and f"bot{MASK}/getMe" in formatted


def test_telegram_webhook_path_and_header_secrets_are_masked_in_access_lines() -> None:
    from pydantic import SecretStr

    from config.settings import Settings
    from config.telegram_webhook import derive_webhook_secrets

    setting = "Hq3v0Zk_UyW7rE2bN9xLm4TfA6sJd1Pc"
    settings = Settings(_env_file=None, telegram_webhook_secret=SecretStr(setting))
    derived = derive_webhook_secrets(setting)
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "POST %s HTTP/1.1" %d (header %s)',
        ("1.2.3.4", f"/telegram/{derived.path}", 200, derived.header),
        None,
    )

    SecretMaskingFilter(settings.secrets()).filter(record)

    assert record.getMessage() == f'1.2.3.4 - "POST /telegram/{MASK} HTTP/1.1" 200 (header {MASK})'
