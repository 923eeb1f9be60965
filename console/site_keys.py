"""What leadrelay makes for a site added in the console: its key and its webhook token."""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection

from config.secrets import weakness

MAX_KEY_LENGTH = 32
# Room left for "-2"… when the key a name gives is taken.
_BASE_LENGTH = MAX_KEY_LENGTH - 4
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# Russian letters as they are usually written in Latin ones (names of sites are often Russian).
_LATIN = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
        "я": "ya",
    }
)  # fmt: skip


def slug_of(name: str) -> str:
    """`Окна СПб` → `okna-spb`: lowercase Latin letters, digits and dashes ("site" if none)."""
    latin = name.lower().translate(_LATIN)
    slug = _NOT_SLUG.sub("-", latin).strip("-")[:_BASE_LENGTH].strip("-")
    return slug or "site"


def free_key(name: str, taken: Collection[str]) -> str:
    """The key `name` gives, with `-2`, `-3`… when a site has it already."""
    base = slug_of(name)
    key, number = base, 1
    while key in taken:
        number += 1
        key = f"{base}-{number}"
    return key


def new_webhook_token() -> str:
    """A secret for the webhook's URL, as strong as the configuration asks of one."""
    while True:
        token = secrets.token_urlsafe(24)
        if weakness(token) is None:
            return token
