"""What every service function needs: sessions, the scheduler, the secret box and the sender."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.destinations import Sender
from core.models import utcnow
from core.quotas import Quotas
from core.scheduling import Scheduler
from core.secrets import SecretBox
from core.urlguard import Resolver


@dataclass(frozen=True)
class Core:
    """The service layer's dependencies, built once per process by the front end that runs it."""

    sessions: async_sessionmaker[AsyncSession]
    scheduler: Scheduler
    secrets: SecretBox
    sender: Sender
    allow_private_urls: bool = False
    resolve: Resolver | None = None
    clock: Callable[[], datetime] = field(default=utcnow)
    quotas: Quotas = field(default_factory=Quotas)
    # Where the HTTP API is reached from outside (calendar feed URLs point there); no trailing slash.
    public_url: str = "http://127.0.0.1:8000"
    # Whether the public URL was configured (SOONISH_PUBLIC_URL), so links for channel members can be offered.
    public_links: bool = False
    # How much later a snoozed reminder is sent again (SOONISH_SNOOZE_SECONDS).
    snooze_seconds: int = 600
