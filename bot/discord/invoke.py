"""Running one command of the shared grammar from an interaction: typed commands and buttons alike."""

from __future__ import annotations

from typing import Any

import discord

from bot.discord.embeds import calendar_link, event_embed
from bot.discord.replies import Answer, actor_of, answer, timestamp
from bot.dispatch import Reply, execute
from bot.grammar import BY_WORDS, Command
from core.destinations.discord import channel_url

# Commands after which the announcement is edited at once; any other change (subscriptions) is debounced.
EDIT_AT_ONCE = frozenset(("event update", "event cancel"))


def channel_of(interaction: discord.Interaction[Any]) -> str | None:
    """The reminder destination of the channel the interaction came from."""
    return channel_url(interaction.channel_id) if interaction.channel_id else None


def answer_of(reply: Reply) -> Answer:
    """A reply of the shared dispatcher as Discord shows it: an event as its embed, anything else as text."""
    if reply.event is not None:
        view = calendar_link(reply.event.ics_url)
        return Answer(text=reply.note, private=reply.private, embed=event_embed(reply.event), view=view)
    return Answer.of(reply)


async def run(
    interaction: discord.Interaction[Any],
    words: str,
    argument: str = "",
    *,
    server: str | None = None,
    **options: str | None,
) -> None:
    """Run one grammar command through the shared dispatcher, show its reply, and keep the announcement current.

    `server` is the guild a button in a direct message belongs to (a DM has none of its own).
    """
    spec = BY_WORDS[words]

    async def work() -> Answer:
        cmd = Command(spec=spec, argument=argument.strip(), options={k: v for k, v in options.items() if v is not None})
        actor = actor_of(interaction, server=server)
        reply = await execute(
            cmd,
            core=interaction.client.core,
            actor=actor,
            channel_url=channel_of(interaction),
            time_format=lambda _zone: timestamp,  # Discord shows each reader their own time
        )
        if reply.changed:
            interaction.client.live.changed(actor, reply.changed, at_once=words in EDIT_AT_ONCE)
        return answer_of(reply)

    await answer(interaction, work, private=not spec.public)
