"""The attacker's corpus through Discord's /integration add: each URL refused privately, none reached."""

from __future__ import annotations

from tests.bot.discord.conftest import Harness
from tests.bot.discord.test_commands import private, run
from tests.bot.discord.test_reminders import MEMBER
from tests.sinks import ConnectionRecorder
from tests.url_corpus import corpus


async def test_discord_refuses_corpus_urls_privately_and_reaches_nothing(discord_bot: Harness) -> None:
    """One URL of each class is refused in a private reply; no hidden channel or address is ever reached."""
    recorder = ConnectionRecorder()
    try:
        chosen: dict[str, list[str]] = {}
        for kind, url in corpus(recorder.port):
            if "\n" not in url and len(chosen.setdefault(kind, [])) < 3:
                chosen[kind].append(url)
        for urls in chosen.values():
            for url in urls:
                shown = await run(discord_bot, MEMBER, "integration add", url=url, tags="hook")
                assert private(shown) and "added" not in shown["content"].lower(), (url, shown["content"])
        listed = await run(discord_bot, MEMBER, "integration list")
        assert private(listed) and "no destinations" in listed["content"].lower()
        assert recorder.connections == 0
        assert not [c for c in discord_bot.fake.calls if c.path.startswith("/channels/777000111")]
    finally:
        recorder.close()
