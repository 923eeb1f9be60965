"""E-mail addresses as they are compared: two spellings of one address match."""

from __future__ import annotations

# An address is at most 254 characters (RFC 5321); anything longer is not one to match on.
MAX_EMAIL = 254


def normalize_email(value: str) -> str:
    """Trimmed and case-folded; empty for what cannot be an address (no `@`, too long).

    Case-insensitive over the whole address: strictly the local part may be case-sensitive,
    but no mail service in use treats `Ivan@` and `ivan@` as two people."""
    email = value.strip().casefold()
    if len(email) > MAX_EMAIL or email.count("@") != 1 or email.startswith("@"):
        return ""
    if email.endswith("@") or any(char.isspace() for char in email):
        return ""
    return email
