"""Refusing weak secrets: the ones an attacker could guess or copy from our own examples.

The strength estimate is deliberately simple: length × log2(alphabet), where the alphabet
is the sum of the character classes the secret uses (26 lowercase, 26 uppercase, 10 digits,
4 for `- _ . ~`, 32 for anything else), and at least 64 (URL-safe base64) once both cases
of letters appear. It overrates human-made strings ("Password-2024-Password") and cannot see
patterns beyond one repeated character, so it is a floor against short or narrow secrets,
not a proof of randomness. 128 bits means 22+ characters of URL-safe base64, 28 of hex;
`secrets.token_urlsafe(24)` (the README's; 32 characters) always passes.
"""

from __future__ import annotations

import math
import string

MIN_SECRET_BITS = 128
# Fewer different characters than this is a pattern ("aaaa…", "abab…"), not a random
# secret: 22 random URL-safe characters have fewer than 8 different ones once in ~10^11.
MIN_DISTINCT_CHARACTERS = 8
GENERATE_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(24))'"

# The placeholders of .env.example and leadrelay.example.toml, and the words they are made
# of: a secret copied from an example is public, however long it is.
PLACEHOLDER_MARKERS = ("replace-me", "change-me", "changeme", "placeholder", "example")

_CLASSES = (
    (frozenset(string.ascii_lowercase), 26),
    (frozenset(string.ascii_uppercase), 26),
    (frozenset(string.digits), 10),
    (frozenset("-_.~"), 4),
)


def estimated_bits(secret: str) -> float:
    """Length × log2 of the alphabet the secret's characters come from (see the module doc)."""
    alphabet = sum(size for members, size in _CLASSES if any(c in members for c in secret))
    # Characters outside the URL-safe classes count as one class of 32 more symbols.
    if any(not any(c in members for members, _ in _CLASSES) for c in secret):
        alphabet += 32
    # Both cases: URL-safe base64, whose 22 characters may by chance hold no digit or - _.
    if any(c.islower() for c in secret) and any(c.isupper() for c in secret):
        alphabet = max(alphabet, 64)
    return len(secret) * math.log2(alphabet) if alphabet > 1 else 0.0


def weakness(secret: str) -> str | None:
    """Why the secret is too weak to use, or None; the reason never repeats the secret."""
    lowered = secret.lower()
    if any(marker in lowered for marker in PLACEHOLDER_MARKERS):
        return "is a placeholder from the examples"
    if len(set(secret)) < MIN_DISTINCT_CHARACTERS:
        return f"has fewer than {MIN_DISTINCT_CHARACTERS} different characters"
    bits = estimated_bits(secret)
    if bits < MIN_SECRET_BITS:
        return f"is too short to guess-proof (~{bits:.0f} bits, at least {MIN_SECRET_BITS} needed)"
    return None


def refusal(reason: str) -> str:
    return f"{reason}; generate one with: {GENERATE_HINT}"
