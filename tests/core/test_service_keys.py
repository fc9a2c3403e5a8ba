"""API keys: each belongs to a tenant and sees only its events; a revoked key is refused at once; keys are listed."""

from __future__ import annotations

import pytest

from bot.runtime import Runtime
from core import service
from core.errors import InvalidInput, NotFound, Unauthenticated
from tests.bot.conftest import serve_api


async def test_a_key_sees_only_its_tenants_events(runtime: Runtime) -> None:
    """An event created with a key of tenant guild-1 is invisible to a key of tenant guild-2."""
    sessions = runtime.core.sessions
    one = await service.create_api_key(sessions=sessions, name="one", tenant="guild-1")
    two = await service.create_api_key(sessions=sessions, name="two", tenant="guild-2")
    async with serve_api(runtime.core) as api:
        created = await api.post(
            "/events", json={"name": "Raid", "start_time": "in 2 days"}, headers={"Authorization": f"Bearer {one}"}
        )
        seen_by_two = await api.get("/events", headers={"Authorization": f"Bearer {two}"})
        shown_to_two = await api.get(f"/events/{created.json()['id']}", headers={"Authorization": f"Bearer {two}"})
        seen_by_one = await api.get("/events", headers={"Authorization": f"Bearer {one}"})
    assert created.status_code == 201
    assert seen_by_two.json() == []
    assert shown_to_two.status_code == 404
    assert [e["name"] for e in seen_by_one.json()] == ["Raid"]


async def test_a_revoked_key_is_refused_at_once(runtime: Runtime) -> None:
    """A request right after the key's revocation is answered 401, though the same key worked a moment before."""
    issued = await service.issue_api_key(sessions=runtime.core.sessions, name="ci")
    headers = {"Authorization": f"Bearer {issued.key}"}
    async with serve_api(runtime.core) as api:
        before = await api.get("/me", headers=headers)
        revoked = await service.revoke_api_key(sessions=runtime.core.sessions, key_id=str(issued.view.id))
        after = await api.get("/me", headers=headers)
    assert before.status_code == 200
    assert revoked == issued.view
    assert after.status_code == 401
    with pytest.raises(Unauthenticated):
        await service.authenticate_api_key(core=runtime.core, key=issued.key)


async def test_keys_are_listed_with_id_name_and_tenant_only(runtime: Runtime) -> None:
    """The list shows each working key's id, name and tenant; a revoked key is gone from it."""
    sessions = runtime.core.sessions
    first = await service.issue_api_key(sessions=sessions, name="alice")
    second = await service.issue_api_key(sessions=sessions, name="bot", tenant="T0123")
    await service.revoke_api_key(sessions=sessions, key_id=str(first.view.id))
    listed = await service.list_api_keys(sessions=sessions)
    assert [(k.id, k.name, k.tenant) for k in listed] == [(second.view.id, "bot", "T0123")]


async def test_revoking_an_unknown_key_is_a_clear_error(runtime: Runtime) -> None:
    """Revoking an id that names no key says so and changes nothing."""
    kept = await service.issue_api_key(sessions=runtime.core.sessions, name="kept")
    for bad in ("999999", "abc", "99999999999999"):
        with pytest.raises(NotFound, match="There is no API key with id"):
            await service.revoke_api_key(sessions=runtime.core.sessions, key_id=bad)
    assert [k.id for k in await service.list_api_keys(sessions=runtime.core.sessions)] == [kept.view.id]


async def test_a_bad_tenant_is_refused(runtime: Runtime) -> None:
    """A tenant with spaces or too long is refused and no key is made."""
    for bad in ("two words", "x" * 65, ""):
        with pytest.raises(InvalidInput, match="API key tenant"):
            await service.issue_api_key(sessions=runtime.core.sessions, name="n", tenant=bad)
    assert await service.list_api_keys(sessions=runtime.core.sessions) == []
