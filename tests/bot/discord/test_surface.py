"""The commands Discord offers: only in servers, and every option explained in the picker."""

from __future__ import annotations

from typing import Any

from tests.bot.discord.conftest import Harness

GUILD = 0


def synced(h: Harness) -> list[dict[str, Any]]:
    """The commands the bot published with its last sync."""
    (call, *_) = [c for c in reversed(h.fake.calls) if c.method == "PUT" and c.path.endswith("/commands")]
    return list(call.body)


def options(command: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every option of a command, its subcommands' included, as (path, option)."""
    found = []
    for option in command.get("options") or []:
        path = f"{prefix}{command['name']} {option['name']}"
        if option["type"] in (1, 2):  # a subcommand or a group of them
            found += options(option, prefix=f"{prefix}{command['name']} ")
        else:
            found.append((path, option))
    return found


async def test_no_command_is_offered_in_direct_messages(discord_bot: Harness) -> None:
    """Every command is published for servers only, since each works inside a server."""
    commands = synced(discord_bot)
    assert {c["name"] for c in commands} == {
        "event",
        "subscribe",
        "unsubscribe",
        "integration",
        "timezone",
        "calendar",
        "settings",
        "follow",
        "unfollow",
        "help",
    }
    assert [c["name"] for c in commands if c.get("contexts") != [GUILD]] == []


async def test_every_option_has_a_real_description(discord_bot: Harness) -> None:
    """No option shows Discord's placeholder "…" in the picker."""
    described = [(path, o["description"]) for c in synced(discord_bot) for path, o in options(c)]
    assert len(described) >= 25
    assert [path for path, text in described if text in ("…", "...", "") or len(text) < 8] == []
