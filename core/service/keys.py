"""HTTP API keys: created once, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.config import new_token
from core.errors import InvalidInput, Unauthenticated
from core.models import ApiKey, User
from core.service.context import Core
from core.service.users import user_for
from core.views import Actor

API_PLATFORM = "api"
API_TENANT = "api"
KEY_PREFIX = "snk_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(*, sessions: async_sessionmaker[AsyncSession], name: str) -> str:
    """A new key for the API user called `name`; the key itself is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise InvalidInput("An API key name is 1 to 64 letters, digits, '-', '_' or '.'.")
    key = KEY_PREFIX + new_token()
    async with sessions.begin() as session:
        user = await user_for(session, Actor(platform=API_PLATFORM, tenant=API_TENANT, user_id=name, display_name=name))
        session.add(ApiKey(user_id=user.id, name=name, key_hash=_hash(key)))
    return key


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
