"""Print the service's OpenAPI document, keys sorted, to compare two versions byte for byte:

    python tools/openapi.py > new.json   # and the same in the other checkout

Built from placeholder settings (no `.env` read), so both sides describe the same service.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from pydantic import SecretStr

from config.settings import Settings
from storage.database import Database
from webhooks.app import create_app


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'openapi.db'}",
            admin_token=SecretStr("Zq8vR2mN5tY7wK3pL9cX4bH6"),
            webhook_token=SecretStr("Xq8vR2mN5tY7wK3pL9cX4bH7"),
        )
        app = create_app(settings=settings, database=Database(settings.database_url))
        json.dump(app.openapi(), sys.stdout, sort_keys=True, ensure_ascii=False)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
