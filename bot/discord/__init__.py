"""The Discord front end: slash commands, buttons and modals over the core (discord.py 2.x)."""

from bot.discord.app import SoonishBot, build_bot

__all__ = ["SoonishBot", "build_bot"]
