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
