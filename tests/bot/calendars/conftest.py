"""Calendar tests run on a core whose public URL is not the API's own address, as behind a reverse proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.embedded import DevServer
from bot.runtime import Runtime, open_runtime
from tests.bot.calendars.helpers import PUBLIC_URL
from tests.conftest import make_settings


@pytest.fixture
async def runtime(tmp_path: Path, database_url: str, dev_server: DevServer) -> AsyncIterator[Runtime]:
    """The core on a fresh database (SQLite and PostgreSQL) whose public URL is PUBLIC_URL."""
    settings = make_settings(tmp_path, database_url, dev_server.address, SOONISH_PUBLIC_URL=PUBLIC_URL + "/")
    async with open_runtime(settings) as rt:
        yield rt
