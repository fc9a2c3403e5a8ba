"""Answering an interaction: within Discord's 3-second window, and the one place errors become replies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import discord

from bot.dispatch import APOLOGY, Reply
from bot.pages import numbered
from core.errors import InvalidInput, SoonishError
from core.views import Actor

log = logging.getLogger(__name__)

# Answer directly when the core is this quick; otherwise defer and follow up. A deferral's visibility is kept by
# its first follow-up, so it is chosen from what the command will show, before the command has run.
ACK_WITHIN = 2.0
# Names, places and descriptions come from members: no message of ours may turn them into pings.
NO_MENTIONS = discord.AllowedMentions.none()
# A message holds 2,000 characters; a longer answer is sent as numbered pages, at most this many.
MESSAGE_LIMIT = 2000
MOST_PAGES = 10


@dataclass(frozen=True)
class Answer:
    """What the bot shows: text and/or an embed, buttons, and whether only the asking member sees it."""

    text: str = ""
    private: bool = False
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    # Called with the id of the (first) message once it is shown, such as to remember an announcement.
    on_shown: Callable[[int], Awaitable[None]] | None = None
    # A private note for the asking member after a public answer (such as a missing permission).
    aside: str = ""

    @classmethod
    def of(cls, reply: Reply) -> Answer:
        """A text reply of the shared dispatcher."""
        return cls(text=reply.text, private=reply.private)


def timestamp(when: datetime) -> str:
    """An instant as Discord shows it, in each reader's own zone: full date and relative."""
    unix = int(when.timestamp())
    return f"<t:{unix}:F> (<t:{unix}:R>)"


def actor_of(interaction: discord.Interaction[Any], *, server: str | None = None) -> Actor:
    """The member asking, in the guild (the tenant) where they ask; in a direct message, in `server`, the guild
    that the pressed button's message came from (never an admin there)."""
    user = interaction.user
    if interaction.guild_id is None:
        if not server:
            raise InvalidInput("Soonish works in server channels; use it there.")
        return Actor(platform="discord", tenant=server, user_id=str(user.id), display_name=user.display_name[:100])
    perms = interaction.permissions
    return Actor(
        platform="discord",
        tenant=str(interaction.guild_id),
        user_id=str(user.id),
        display_name=user.display_name[:100],
        is_admin=perms.manage_events or perms.administrator,
    )


async def show(interaction: discord.Interaction[Any], answer: Answer, *, deferred_private: bool | None = None) -> None:
    """Send the answer as the interaction's response, or as a follow-up if it was deferred already.

    `deferred_private` is how the response was deferred; when the answer's visibility differs (a public command
    refused with a private error), the deferral is deleted first, so the follow-up keeps its own visibility.
    """
    kwargs: dict[str, Any] = {"ephemeral": answer.private, "allowed_mentions": NO_MENTIONS}
    first = dict(kwargs)
    if answer.embed is not None:
        first["embed"] = answer.embed
    if answer.view is not None:
        first["view"] = answer.view
    pages: list[str | None] = list(numbered(answer.text, MESSAGE_LIMIT, most=MOST_PAGES)) if answer.text else [None]
    message_id: int | None
    if interaction.response.is_done():
        if deferred_private is not None and deferred_private != answer.private:
            await interaction.delete_original_response()
        message_id = (await interaction.followup.send(pages[0] or discord.utils.MISSING, **first)).id
    else:
        message_id = (await interaction.response.send_message(pages[0], **first)).message_id
    if answer.on_shown is not None and message_id is not None:
        try:
            await answer.on_shown(message_id)
        except Exception:  # the answer is out; failing to remember it only stops later edits of it
            log.exception("could not remember a shown message")
    for page in pages[1:]:
        await interaction.followup.send(page or discord.utils.MISSING, **kwargs)
    if answer.aside:
        await interaction.followup.send(answer.aside, ephemeral=True, allowed_mentions=NO_MENTIONS)


def failure(exc: BaseException) -> Answer:
    """The one error handler: a core error is a short private message; anything else is logged and apologised for."""
    if isinstance(exc, SoonishError):
        return Answer(exc.message, private=True)
    log.error("Discord interaction failed", exc_info=exc)
    return Answer(APOLOGY, private=True)


async def answer(
    interaction: discord.Interaction[Any], work: Callable[[], Awaitable[Answer]], *, private: bool
) -> None:
    """Run `work` and show its answer; defer first, as `private` says, if it takes longer than a response may wait."""
    task = asyncio.ensure_future(work())
    done, _ = await asyncio.wait({task}, timeout=ACK_WITHIN)
    deferred: bool | None = None
    if not done and not interaction.response.is_done():
        await interaction.response.defer(ephemeral=private, thinking=True)
        deferred = private
    try:
        result = await task
    except Exception as exc:
        result = failure(exc)
    await show(interaction, result, deferred_private=deferred)
