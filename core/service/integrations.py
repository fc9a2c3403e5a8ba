"""Integrations: a member's own destinations (Apprise URLs), stored encrypted, shown masked."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import notices
from core.destinations import member_destination
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Integration, User, parse_row_id, utcnow
from core.secrets import fingerprint
from core.service.context import Core
from core.service.limits import Action, Charge, charge, tenant_scope, user_scope
from core.service.users import user_for
from core.tags import DM_TAG, parse_tags, split_stored
from core.text import check_line, is_plain_ref
from core.urlguard import guard_url, mask_url
from core.views import Actor, IntegrationTestResult, IntegrationView

MAX_INTEGRATIONS = 20
MAX_LABEL = 100


def integration_view(row: Integration) -> IntegrationView:
    """The neutral, masked view of an integration row."""
    return IntegrationView(
        id=row.id,
        label=row.label,
        url=row.masked_url,
        tags=split_stored(row.tags),
        last_success_at=row.last_success_at,
        last_error=row.last_error,
    )


async def add_integration(
    *, core: Core, actor: Actor, url: str, tags: str | Sequence[str] | None = None, label: str | None = None
) -> IntegrationView:
    """Register a destination for the actor; the URL is checked, encrypted and never shown again in clear."""
    chosen = parse_tags(tags)
    if DM_TAG in chosen:
        raise InvalidInput("The tag 'dm' is reserved for direct messages from the bot; choose another tag.")
    check_line("label", label or "")
    safe_url = await guard_url(url, allow_private=core.allow_private_urls, resolve=core.resolve)
    scheme = safe_url.split("://", 1)[0].lower()
    name = (label or "").strip() or scheme
    if len(name) > MAX_LABEL or not name.isprintable():
        raise InvalidInput(f"A label is 1 to {MAX_LABEL} printable characters.")
    chosen = chosen or (scheme,)
    print_ = fingerprint(safe_url)
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        existing = await session.execute(
            select(Integration).where(Integration.user_id == user.id, Integration.url_fingerprint == print_)
        )
        if (same := existing.scalar_one_or_none()) is not None:
            raise Conflict(f"You already registered this destination as '{same.label}' (id {same.id}).")
        count = await session.execute(select(func.count()).where(Integration.user_id == user.id))
        if count.scalar_one() >= MAX_INTEGRATIONS:
            raise Conflict(f"You have {MAX_INTEGRATIONS} destinations already; remove one first.")
        row = Integration(
            user_id=user.id,
            label=name,
            url_encrypted=core.secrets.encrypt(safe_url),
            url_fingerprint=print_,
            masked_url=mask_url(safe_url),
            tags=",".join(chosen),
        )
        session.add(row)
        await session.flush()
        return integration_view(row)


async def list_integrations(*, core: Core, actor: Actor) -> list[IntegrationView]:
    """The actor's destinations, masked."""
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        rows = await session.execute(select(Integration).where(Integration.user_id == user.id).order_by(Integration.id))
        return [integration_view(r) for r in rows.scalars()]


async def _own(session: AsyncSession, user: User, ref: str | int) -> Integration:
    text = str(ref).strip()
    if not text or not is_plain_ref(text):
        raise NotFound("Give a destination by its id or its label. /integration list shows yours.")
    query = select(Integration).where(Integration.user_id == user.id)
    if (number := parse_row_id(text)) is not None:
        query = query.where(Integration.id == number)
    else:
        query = query.where(Integration.label == text[:MAX_LABEL])
    row = (await session.execute(query.limit(1))).scalar_one_or_none()
    if row is None:
        raise NotFound(f"You have no destination '{text[:MAX_LABEL]}'. /integration list shows yours.")
    return row


async def remove_integration(*, core: Core, actor: Actor, ref: str | int) -> IntegrationView:
    """Delete one of the actor's destinations, by id or label."""
    async with core.sessions.begin() as session:
        row = await _own(session, await user_for(session, actor), ref)
        view = integration_view(row)
        await session.delete(row)
        return view


async def test_integration(*, core: Core, actor: Actor, ref: str | int) -> IntegrationTestResult:
    """Send a test message to one of the actor's destinations now, and record how it went."""
    # The use is counted (and committed) before the send: a send that fails still reached the third party.
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        row = await _own(session, user, ref)
        row_id, url = row.id, core.secrets.decrypt(row.url_encrypted)
        await charge(
            session,
            action=Action.TEST_SEND,
            charges=(
                Charge(
                    user_scope(user),
                    core.quotas.test_sends_per_user,
                    "You have sent {count} test message{s} in {window}",
                ),
                Charge(
                    tenant_scope(actor),
                    core.quotas.test_sends_per_tenant,
                    "This community has sent {count} test message{s} in {window}",
                ),
                Charge(
                    f"destination:{row.url_fingerprint}",
                    core.quotas.test_sends_per_destination,
                    "This destination has received {count} test message{s} in {window}",
                ),
            ),
            now=core.clock(),
        )
    destination = member_destination(url, platform=actor.platform, tenant=actor.tenant)
    outcome = await core.sender.send(destination, notices.test())
    async with core.sessions.begin() as session:
        fresh = await session.get(Integration, row_id)
        if fresh is None:
            raise NotFound("That destination was removed while it was being tested.")
        if outcome.delivered:
            fresh.last_success_at = utcnow()
            fresh.last_error = None
        else:
            fresh.last_error, fresh.last_error_at = outcome.error, utcnow()
        return IntegrationTestResult(
            integration=integration_view(fresh), delivered=outcome.delivered, error=outcome.error
        )
