"""The slash-command grammar shared by every front end: `/event create name:"Game night" start:"fri 8pm"`."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from core.errors import InvalidInput

MAX_LINE = 4000


@dataclass(frozen=True)
class Spec:
    """One command: its words, what its positional argument is, the options it takes, and its help."""

    words: str
    summary: str
    positional: str | None = None
    options: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    example: str = ""
    # Whether the channel sees a successful result; every error, and every other command, is private.
    public: bool = False
    # Run by a button the bot offers rather than typed, so /help does not list it (`/help WORDS` still explains it).
    button: bool = False

    @property
    def brief(self) -> str:
        """The usage with its optional options folded (`/event create name:… start:… […]`), for the overview."""
        optional = [o for o in self.options if o not in self.required]
        if len(optional) <= 3:
            return self.usage
        parts = [f"/{self.words}", *([self.positional] if self.positional else [])]
        return " ".join([*parts, *(f"{o}:…" for o in self.required), "[…]"])

    @property
    def usage(self) -> str:
        """`/event update EVENT [name:..] [start:..]`."""
        parts = [f"/{self.words}"]
        if self.positional:
            parts.append(self.positional)
        parts += [f"{o}:…" if o in self.required else f"[{o}:…]" for o in self.options]
        return " ".join(parts)


EVENT_FIELDS = ("name", "start", "end", "timezone", "description", "location", "link", "remind")
# A series: `repeat` with an optional end (`until` a date or time, or `count` occurrences).
SERIES_FIELDS = ("repeat", "until", "count")
# One occurrence of a series (`occurrence`), or the series from one occurrence on (`from`), by its date.
OCCURRENCE_FIELDS = ("occurrence", "from")

SPECS: tuple[Spec, ...] = (
    Spec(
        "event create",
        'Create an event in this channel; repeat:"every friday" makes a series (until:DATE or count:N end it).',
        None,
        EVENT_FIELDS + SERIES_FIELDS,
        ("name", "start"),
        '/event create name:"Game night" start:"friday 20:00" remind:"1d, 1h" repeat:"every friday"',
        public=True,
    ),
    Spec(
        "event update",
        "Change an event, one occurrence, or a series from:DATE on (organizer only).",
        "EVENT",
        EVENT_FIELDS + OCCURRENCE_FIELDS + ("repeat",),
        (),
        '/event update K3XQ7D start:"saturday 20:00"',
        public=True,
    ),
    Spec(
        "event cancel",
        "Cancel an event or one occurrence; tell its subscribers (organizer only).",
        "EVENT",
        ("occurrence",),
        (),
        '/event cancel K3XQ7D occurrence:"fri 11 dec"',
        public=True,
    ),
    Spec("event list", "Upcoming events here; `/event list all` includes past ones.", "[all]"),
    Spec("event info", "Details of one event (of a series, its next dates).", "EVENT"),
    Spec("event log", "Deliveries of an event's reminders (yours, or all of them for the organizer).", "EVENT"),
    Spec(
        "subscribe",
        "Get reminders for an event.",
        "EVENT",
        ("tags", "remind", "every", "occurrence"),
        (),
        '/subscribe K3XQ7D tags:dm,email remind:"1d, 1h" every:daily',
    ),
    Spec("unsubscribe", "Stop reminders for an event.", "EVENT"),
    Spec(
        "integration add",
        "Register a destination (an Apprise URL) for your reminders.",
        "URL",
        ("tags", "label"),
        (),
        "/integration add mailto://me:app-password@gmail.com tags:email label:mail",
    ),
    Spec("integration list", "Your destinations (masked)."),
    Spec("integration remove", "Delete one of your destinations.", "ID"),
    Spec("integration test", "Send a test message to one of your destinations.", "ID"),
    Spec(
        "timezone set", "Set the zone your times are read and shown in.", "ZONE", (), (), "/timezone set Europe/Berlin"
    ),
    Spec("timezone show", "Show your time zone."),
    Spec(
        "settings",
        "Your defaults for subscribing without options; `none` clears one.",
        None,
        ("remind", "tags"),
        (),
        '/settings remind:"1d, 1h" tags:dm',
    ),
    Spec("follow", "Follow this channel: its new events subscribe you; `list` shows yours.", "[list]"),
    Spec("unfollow", "Stop following this channel."),
    Spec(
        "calendar",
        "Your private feed URL (`rotate`: a new one); `public [all]`: this channel's (every channel's) public feed.",
        "[rotate | public [all] [rotate|off]]",
    ),
    Spec("help", "List the commands, or explain one.", "[COMMAND]"),
    # What the "Remind me again" button of a reminder sent by direct message runs (REMINDER is EVENT_ID:UNIX).
    Spec(
        "snooze",
        "Remind me again of a reminder, a few minutes later (its button in a direct message).",
        "REMINDER",
        button=True,
    ),
)
BY_WORDS = {spec.words: spec for spec in SPECS}
GROUPS = {spec.words.split()[0] for spec in SPECS if " " in spec.words}


@dataclass(frozen=True)
class Command:
    """A parsed command line."""

    spec: Spec
    argument: str = ""
    options: dict[str, str] = field(default_factory=dict)

    def option(self, name: str) -> str | None:
        """An option's value, or None when it was not given."""
        return self.options.get(name)


def _tokens(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise InvalidInput(f"Could not read that command: {exc} (check your quotes).") from exc


def parse(line: str) -> Command:
    """Parse one command line; every mistake gets a message that says how to write it instead."""
    text = line.strip()
    if len(text) > MAX_LINE:
        raise InvalidInput(f"That command is {len(text)} characters long; the limit is {MAX_LINE}.")
    if not text.startswith("/"):
        raise InvalidInput("Commands start with '/'. Type /help to see them.")
    tokens = _tokens(text[1:])
    if not tokens:
        raise InvalidInput("Type /help to see the commands.")
    head = tokens[0].lower()
    rest = tokens[1:]
    if head in GROUPS:
        if not rest:
            subs = ", ".join(s.words.split()[1] for s in SPECS if s.words.startswith(head + " "))
            raise InvalidInput(f"/{head} needs a subcommand: {subs}.")
        words = f"{head} {rest[0].lower()}"
        if head == "timezone" and words not in BY_WORDS:
            words, rest = "timezone set", rest  # `/timezone Europe/Berlin` is a shorthand for set
        else:
            rest = rest[1:]
    else:
        words = head
    spec = BY_WORDS.get(words)
    if spec is None:
        raise InvalidInput(f"Unknown command /{words}. Type /help to see the commands.")
    return _bind(spec, rest)


def _bind(spec: Spec, tokens: list[str]) -> Command:
    options: dict[str, str] = {}
    positional: list[str] = []
    for token in tokens:
        key, sep, value = token.partition(":")
        if sep and key.lower() in spec.options:
            if key.lower() in options:
                raise InvalidInput(f"The option {key.lower()}: is given twice.")
            options[key.lower()] = value
        else:
            positional.append(token)
    if positional and spec.positional is None:
        known = ", ".join(f"{o}:" for o in spec.options) or "none"
        raise InvalidInput(f"Unexpected '{positional[0][:40]}' for /{spec.words}. Its options: {known}.")
    missing = [o for o in spec.required if not options.get(o)]
    if missing:
        raise InvalidInput(f"/{spec.words} needs {', '.join(f'{m}:' for m in missing)}. Example: {spec.example}")
    if spec.positional and not spec.positional.startswith("[") and not positional:
        raise InvalidInput(f"/{spec.words} needs {spec.positional}. Usage: {spec.usage}")
    return Command(spec=spec, argument=" ".join(positional), options=options)


def help_text(topic: str = "") -> str:
    """The list of commands, or the usage of one."""
    topic = topic.strip().lstrip("/").lower()
    if topic:
        matches = [s for s in SPECS if s.words == topic or s.words.startswith(topic + " ")]
        if not matches:
            raise InvalidInput(f"No command /{topic}. Type /help to see them.")
        lines = []
        for s in matches:
            lines.append(f"{s.usage}\n    {s.summary}")
            if s.example:
                lines.append(f"    e.g. {s.example}")
        return "\n".join(lines)
    lines = ["Commands (/help COMMAND shows all of a command's options):"]
    lines += [f"  {s.brief}\n      {s.summary}" for s in SPECS if not s.button]
    lines.append(
        "Times: ISO (2026-12-05 20:00) or words (tomorrow 8pm, thursday at 8, the 5th 20:00, in 2 hours), "
        "read in your /timezone. "
        'Reminders: remind:"1d, 1h 30m" (before the start), every:hourly|daily|weekly (countdown).'
    )
    return "\n".join(lines)
