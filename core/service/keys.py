"""HTTP API keys: created once, shown once, stored only as a hash; each belongs to one tenant, revoked at once."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.config import new_token
from core.errors import InvalidInput, NotFound, Unauthenticated
from core.models import ApiKey, User, parse_row_id
from core.service.context import Core
from core.service.users import user_for
from core.views import Actor

API_PLATFORM = "api"
API_TENANT = "api"
KEY_PREFIX = "snk_"
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class ApiKeyView:
    """An API key as it may be shown: never the key itself, nor its hash."""

    id: int
    name: str
    tenant: str
    created_at: datetime


@dataclass(frozen=True)
class IssuedApiKey:
    """A new key: `key` is shown this once and never stored."""

    view: ApiKeyView
    key: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _checked(value: str, what: str) -> str:
    value = value.strip()
    if not _NAME.match(value):
        raise InvalidInput(f"An API key {what} is 1 to 64 letters, digits, '-', '_' or '.'.")
    return value


async def issue_api_key(
    *, sessions: async_sessionmaker[AsyncSession], name: str, tenant: str = API_TENANT
) -> IssuedApiKey:
    """A new key for the API user `name` in `tenant` (default `api`); it sees only that tenant's events."""
    name, tenant = _checked(name, "name"), _checked(tenant, "tenant")
    key = KEY_PREFIX + new_token()
    async with sessions.begin() as session:
        user = await user_for(session, Actor(platform=API_PLATFORM, tenant=tenant, user_id=name, display_name=name))
        row = ApiKey(user_id=user.id, name=name, key_hash=_hash(key))
        session.add(row)
        await session.flush()
        view = ApiKeyView(id=row.id, name=name, tenant=tenant, created_at=row.created_at)
    return IssuedApiKey(view=view, key=key)


async def create_api_key(*, sessions: async_sessionmaker[AsyncSession], name: str, tenant: str = API_TENANT) -> str:
    """A new key for the API user called `name`; the key itself is returned once and never stored."""
    return (await issue_api_key(sessions=sessions, name=name, tenant=tenant)).key


async def list_api_keys(*, sessions: async_sessionmaker[AsyncSession]) -> list[ApiKeyView]:
    """Every API key that works, oldest first."""
    async with sessions() as session:
        rows = await session.execute(
            select(ApiKey, User.tenant).join(User, ApiKey.user_id == User.id).order_by(ApiKey.id)
        )
        return [ApiKeyView(id=k.id, name=k.name, tenant=t, created_at=k.created_at) for k, t in rows]


async def revoke_api_key(*, sessions: async_sessionmaker[AsyncSession], key_id: str) -> ApiKeyView:
    """Delete the key with id `key_id`: the next request with it is refused. Answers with what was revoked."""
    row_id = parse_row_id(key_id.strip())
    async with sessions.begin() as session:
        query = select(ApiKey, User.tenant).join(User, ApiKey.user_id == User.id).where(ApiKey.id == row_id)
        found = (await session.execute(query)).one_or_none() if row_id is not None else None
        if found is None:
            raise NotFound(f"There is no API key with id {key_id.strip()[:20]!r}; `soonish api-key list` shows them.")
        key, tenant = found
        await session.delete(key)
        return ApiKeyView(id=key.id, name=key.name, tenant=tenant, created_at=key.created_at)


async def authenticate_api_key(*, core: Core, key: str) -> Actor:
    """The API user a bearer key belongs to."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        raise Unauthenticated("Invalid API key.")
    async with core.sessions() as session:
        query = select(User).join(ApiKey, ApiKey.user_id == User.id).where(ApiKey.key_hash == _hash(key))
        user = (await session.execute(query)).scalar_one_or_none()
    if user is None:
        raise Unauthenticated("Invalid API key.")
    return Actor(
        platform=user.platform, tenant=user.tenant, user_id=user.platform_user_id, display_name=user.display_name
    )
