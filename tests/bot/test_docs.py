"""The API's documentation pages work offline: Swagger UI and ReDoc come from the API itself, no other host."""

from __future__ import annotations

import re

import pytest

from bot.runtime import Runtime
from tests.bot.conftest import serve_api

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_reference_no_external_host(runtime: Runtime, page: str) -> None:
    """/docs and /redoc load every script, style and icon from the API itself, and each of those is served."""
    async with serve_api(runtime.core) as api:
        html = (await api.get(page)).text
        assets = ASSET.findall(html)
        served = [(await api.get(asset)).status_code for asset in assets]
    assert "://" not in html.replace("window.location.origin", "")
    assert len(assets) >= 2
    assert all(asset.startswith("/docs-assets/") for asset in assets)
    assert served == [200] * len(assets)
