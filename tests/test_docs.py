"""The docs keep up with the code: every setting is documented, every relative link resolves.

The settings come from the `Settings` class itself (its fields under its env prefix, or their
aliases), so a new field fails here until `.env.example` and `docs/CONFIGURATION.md` name it.
Links are checked as GitHub renders them: a path relative to the page, and an `#anchor` that
is the slug of a heading of the target page.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, get_args

from pydantic import AliasChoices, AliasPath, BaseModel
from pydantic.fields import FieldInfo

from config.settings import Settings

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / ".env.example"
CONFIGURATION = ROOT / "docs" / "CONFIGURATION.md"
# A newcomer reads the README in five minutes; the rest lives in docs/ by reader.
README_LIMIT_BYTES = 12_000

_FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
_LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*\s*$", re.MULTILINE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_SETTING_NAME = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b")


# --- settings -----------------------------------------------------------------------------
def _is_structured(annotation: Any) -> bool:
    """A field holding models (the sites, the rules) is filled from the TOML file."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_is_structured(arg) for arg in get_args(annotation))


def _env_names_of(name: str, field: FieldInfo, prefix: str) -> list[str]:
    """The variables pydantic-settings reads a field from: its aliases, else prefix + name."""
    alias = field.validation_alias or field.alias
    if alias is None:
        return [f"{prefix}{name}".upper()]
    choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
    return [
        str(choice.path[0] if isinstance(choice, AliasPath) else choice).upper()
        for choice in choices
    ]


def environment_settings() -> list[str]:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    names: list[str] = []
    for name, field in Settings.model_fields.items():
        if not _is_structured(field.annotation):
            names += _env_names_of(name, field, prefix)
    return names


def toml_tables() -> list[str]:
    """The settings that only the TOML file fills: `[[sites]]`, `[[rules]]`."""
    return [
        f"[[{name}]]"
        for name, field in Settings.model_fields.items()
        if _is_structured(field.annotation)
    ]


def _prose(path: Path) -> str:
    """A page without its fenced code blocks: what it says, not what it quotes."""
    return _FENCE.sub("", path.read_text(encoding="utf-8"))


def test_settings_are_found_in_the_settings_class() -> None:
    names = environment_settings()
    prefix = str(Settings.model_config.get("env_prefix", ""))
    assert prefix and len(names) >= 40 and all(name.startswith(prefix) for name in names)
    assert "LEADRELAY_DATABASE_URL" in names and "LEADRELAY_SITES" not in names


def test_an_aliased_setting_is_read_by_its_aliases() -> None:
    plain = FieldInfo(default=None)
    aliased = FieldInfo(
        default=None, validation_alias=AliasChoices("LR_ONE", AliasPath("lr_two", 0))
    )
    assert _env_names_of("log_level", plain, "LEADRELAY_") == ["LEADRELAY_LOG_LEVEL"]
    assert _env_names_of("log_level", aliased, "LEADRELAY_") == ["LR_ONE", "LR_TWO"]


def test_every_setting_is_a_line_of_the_env_example() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    missing = [
        name
        for name in environment_settings()
        if not re.search(rf"^{re.escape(name)}=", text, re.MULTILINE)
    ]
    assert not missing, f"add a line `NAME=` (with a comment) to .env.example for: {missing}"


def test_every_setting_is_documented_in_configuration() -> None:
    text = _prose(CONFIGURATION)
    missing = [name for name in environment_settings() if f"`{name}`" not in text]
    missing += [table for table in toml_tables() if table not in text]
    assert not missing, f"docs/CONFIGURATION.md does not name: {missing}"


def test_the_env_example_and_configuration_name_no_setting_that_does_not_exist() -> None:
    known = set(environment_settings())
    prefix = str(Settings.model_config.get("env_prefix", ""))
    unknown = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ENV_EXAMPLE, CONFIGURATION)
        for name in _SETTING_NAME.findall(path.read_text(encoding="utf-8"))
        if name.startswith(prefix) and name not in known
    }
    assert not unknown, f"no setting of config/settings.py has these names: {sorted(unknown)}"


# --- links --------------------------------------------------------------------------------
def pages() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text in lower case, punctuation dropped (word
    characters, `-` and spaces kept), spaces as `-`."""
    text = _LINK.sub(lambda match: match["text"], heading).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor; a repeated one gets `-1`, `-2`… as GitHub numbers them."""
    seen: Counter[str] = Counter()
    found = set()
    for match in _HEADING.finditer(_prose(path)):
        slug = github_slug(match["text"])
        found.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return found


def links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of each link outside code."""
    text = _FENCE.sub(lambda match: "\n" * match[0].count("\n"), path.read_text(encoding="utf-8"))
    text = _CODE_SPAN.sub(lambda match: "\n" * match[0].count("\n"), text)
    return [
        (text.count("\n", 0, match.start()) + 1, match["target"]) for match in _LINK.finditer(text)
    ]


def broken_link(page: Path, target: str) -> str | None:
    """Why a relative link does not resolve, or None when it does (or is not relative)."""
    if _SCHEME.match(target):
        return None
    file_part, _, anchor = target.partition("#")
    resolved = (page.parent / file_part).resolve() if file_part else page
    if not resolved.exists():
        return "no such file"
    if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
        return f"no heading with the anchor #{anchor} in {resolved.relative_to(ROOT)}"
    return None


def test_github_slugs() -> None:
    assert github_slug("Working on a lead (Flexbe `changeLead`)") == (
        "working-on-a-lead-flexbe-changelead"
    )
    assert github_slug("The card's buttons") == "the-cards-buttons"
    assert github_slug("Time, working hours and timers") == "time-working-hours-and-timers"
    assert github_slug("`[sites.crm5]`") == "sitescrm5"


def test_every_relative_link_resolves() -> None:
    broken = [
        f"{page.relative_to(ROOT)}:{line}: ({target}) {reason}"
        for page in pages()
        for line, target in links(page)
        if (reason := broken_link(page, target)) is not None
    ]
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_readme_indexes_every_doc_page() -> None:
    linked = {(README.parent / target.partition("#")[0]).resolve() for _, target in links(README)}
    unlisted = [str(page.relative_to(ROOT)) for page in pages()[1:] if page.resolve() not in linked]
    assert not unlisted, f"add these pages to the README's documentation index: {unlisted}"


def test_the_readme_is_read_in_five_minutes() -> None:
    size = len(README.read_bytes())
    assert size < README_LIMIT_BYTES, (
        f"README.md is {size} bytes (limit {README_LIMIT_BYTES}): move what is for one "
        "reader into its page in docs/"
    )
