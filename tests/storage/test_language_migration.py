"""0005: managers already on a language other than English keep it as their choice."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from storage.database import Database
from storage.migrate import upgrade


async def test_existing_languages_become_choices_and_english_follows_the_app(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(database, "0004")
        async with database.write() as session:
            for telegram_id, language in ((1, "ru"), (2, "en")):
                await session.exec(  # type: ignore[call-overload]
                    text(
                        "INSERT INTO manager (telegram_id, name, role, language, sites, active,"
                        " created_at, updated_at) VALUES (:id, '', 'manager', :language, '[]',"
                        " 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                    ),
                    params={"id": telegram_id, "language": language},
                )
        await upgrade(database)
        async with database.read() as session:
            rows = await session.exec(  # type: ignore[call-overload]
                text("SELECT telegram_id, language_chosen FROM manager ORDER BY telegram_id")
            )
            assert [(row[0], bool(row[1])) for row in rows] == [(1, True), (2, False)]
    finally:
        await database.dispose()
