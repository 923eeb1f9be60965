"""The scan of the service subprocesses' logs finds what it looks for."""

from __future__ import annotations

from pathlib import Path

from testkit.service import Service


def test_log_scan_finds_configured_secrets_and_contacts(tmp_path: Path) -> None:
    service = Service(
        {"LEADRELAY_WEBHOOK_TOKEN": "tok-abcdef0123456789ABCDEF", "LEADRELAY_LOG_LEVEL": "INFO"},
        tmp_path,
    )
    service.log.write_text(
        "INFO POST /flexbe/*** 200\n"
        "INFO POST /flexbe/tok-abcdef0123456789ABCDEF 200\n"
        "WARNING lead 7: client +79991234567\n"
        "INFO level INFO\n"
    )
    assert service.log_leaks() == [
        "INFO POST /flexbe/tok-abcdef0123456789ABCDEF 200",
        "WARNING lead 7: client +79991234567",
    ]
