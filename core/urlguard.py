"""Outbound guard and masking for the Apprise URLs users register: where we send, and what they see of it."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import ipaddress
import logging
import re
import socket
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import apprise
from apprise.utils.parse import parse_urls

from core.errors import InvalidURL

Resolver = Callable[[str], list[str]]
"""Returns the IP addresses (as text) a host name resolves to; raises OSError when it does not."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
MASK = "***"
# What is shown of a URL fits the columns that store it (event channel label 200, integration mask 300).
MAX_SHOWN_LENGTH = 200

# Services whose server is fixed inside the Apprise plugin (discord.com, hooks.slack.com,
# api.telegram.org, api.pushover.net, api.pushbullet.com): the "host" of their URL is a token,
# so there is no address of the user's choosing to check and nothing of it may be shown.
_SERVICE_SCHEMES = frozenset({"discord", "slack", "tgram", "pover", "pbul"})

# Schemes where the user names the server the bot connects to, so its address is checked and
# its host name may be shown. Decided by reading each plugin in apprise 2.3:
# - json/xml/form: the generic webhooks (use these instead of http/https);
# - apprise (an Apprise API server), gotify, mmost (Mattermost), rocket (Rocket.Chat),
#   signal (signal-cli REST API): self-hosted servers;
# - workflow(s): Microsoft Teams through Power Automate (apprise 2.3 has no msteams:// plugin),
#   the host is the Logic Apps endpoint;
# - ntfy(s): only with a host and a topic (private mode); cloud mode (ntfy://topic) posts to
#   ntfy.sh and the plugin reports no host;
# - matrix(s): the homeserver, except in t2bot webhook mode (matrix://token) which posts to
#   webhooks.t2bot.io and reports no host;
# - mailto(s): the SMTP server we connect to (smtp= or the provider's template), not the mail domain.
# The "s" variants are the same plugins over TLS.
_WEB_SCHEMES = frozenset(
    {
        "json", "jsons", "xml", "xmls", "form", "forms",
        "apprise", "apprises", "gotify", "gotifys", "mmost", "mmosts", "rocket", "rockets",
        "signal", "signals", "workflow", "workflows", "ntfy", "ntfys", "matrix", "matrixs",
        "mailto", "mailtos",
    }
)  # fmt: skip

# Left out on purpose: http/https (json/jsons do the same POST without Apprise guessing a
# service from the address), schemes that act on the bot's own machine (dbus, gnome, macosx,
# windows, syslog), raw network protocols with a wider reach than HTTP (mqtt, amqp, irc, xmpp,
# smpp, rsyslog), and the long tail of vendor APIs, which can be added one by one when asked for.
ALLOWED_SCHEMES: frozenset[str] = _SERVICE_SCHEMES | _WEB_SCHEMES

# Parameters that make the bot read a file from its own disk (a message template, PGP key files).
_LOCAL_FILE_PARAMS = frozenset({"template", "pgppub", "pgpprv"})

# Values Apprise reads as "off"; anything else given to redirect= or wkd= counts as asking for it.
_OFF_VALUES = frozenset({"no", "n", "false", "f", "0", "off", "never", "none", "disable", "disabled", "deny"})

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,31})://")
# Any place a scheme starts, as Apprise looks for them when it splits a text into several URLs.
_URL_START_RE = re.compile(r"[A-Za-z0-9+.-]+://")
_SHOWN_HOST_RE = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")
_SHOWN_KEY_RE = re.compile(r"[+:-]?[A-Za-z0-9_.-]{1,40}")
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Apprise plugins log warnings that quote the URL's parts (tokens included) when a URL does not
# parse; while this module parses a URL those records are dropped, so a secret never reaches a log.
_parsing = contextvars.ContextVar("urlguard_parsing", default=False)


class _DropWhileParsing(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _parsing.get()


logging.getLogger("apprise").addFilter(_DropWhileParsing())


def _allowed_kinds() -> str:
    kinds = [s for s in sorted(ALLOWED_SCHEMES) if not (s.endswith("s") and s[:-1] in ALLOWED_SCHEMES)]
    return ", ".join(f"{k}(s)" if f"{k}s" in ALLOWED_SCHEMES else k for k in kinds)


_ALLOWED_KINDS = _allowed_kinds()
_PRIVATE_HINT = "(Whoever runs this bot can allow private addresses with SOONISH_ALLOW_PRIVATE_URLS=true.)"
_REDIRECT_MESSAGE = (
    "That URL asks to follow redirects (redirect=...); we never follow redirects, so remove that parameter."
)


def apprise_asset() -> apprise.AppriseAsset:
    """Return the Apprise settings every send uses: secrets masked in Apprise's logs, no HTTP redirects."""
    return apprise.AppriseAsset(secure_logging=True, http_redirects=False)


_system_getaddrinfo = socket.getaddrinfo


def system_resolve(host: str) -> list[str]:
    """Resolve a host name with the system resolver (blocking; run it off the event loop)."""
    return [str(info[4][0]) for info in _system_getaddrinfo(host, None, type=socket.SOCK_STREAM)]


def check_url(url: str, *, allow_private: bool, resolve: Resolver = system_resolve) -> str:
    """Return the URL, stripped, if we may send to it; raise InvalidURL saying why not.

    ``allow_private`` (for self-hosters) lifts only the public-address rule.
    """
    text = url.strip() if isinstance(url, str) else ""
    approve(text, allow_private=allow_private, resolve=resolve)
    return text


def approve(url: str, *, allow_private: bool, resolve: Resolver = system_resolve) -> Any:
    """The one Apprise plugin instance a URL makes, once every check passed; raise InvalidURL saying why not.

    Sending goes through this instance, never through Apprise parsing the stored text again.
    """
    text = url.strip() if isinstance(url, str) else ""
    scheme = _check_shape(text)
    _check_params(text.partition("?")[2])
    plugin = _instantiate(text)
    if plugin is None:
        raise InvalidURL(f"That is not a valid {scheme}:// URL: check it against Apprise's documentation for {scheme}.")
    _check_plugin_scheme(scheme, plugin)
    _check_plugin(plugin)
    host = _connect_host(scheme, plugin)
    if host and not allow_private:
        _check_host(host, resolve)
    return plugin


async def guard_url(url: str, *, allow_private: bool, resolve: Resolver | None = None) -> str:
    """Run check_url in a worker thread, so a slow DNS lookup does not block the event loop."""
    return await asyncio.to_thread(check_url, url, allow_private=allow_private, resolve=resolve or system_resolve)


def mask_url(url: str) -> str:
    """Return what a user may see of a stored URL: the scheme, a checked host and port, and no secret."""
    try:
        shown = _mask(url)
    except Exception:  # showing a stored URL must never fail; a bare mask is always safe
        return MASK
    return shown if len(shown) <= MAX_SHOWN_LENGTH else shown[: MAX_SHOWN_LENGTH - 1] + "…"


def _check_shape(text: str) -> str:
    if not text:
        raise InvalidURL("Please give a destination URL, such as jsons://example.com/hook.")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidURL(f"That URL is too long: the limit is {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise InvalidURL("That URL contains spaces, control or invisible characters; paste it again without them.")
    match = _SCHEME_RE.match(text)
    if match is None:
        raise InvalidURL("That is not a URL: it should start with a scheme such as jsons:// or ntfys://.")
    scheme = match.group(1).lower()
    found: list[str] = parse_urls(text)  # type: ignore[no-untyped-call]
    if len(_URL_START_RE.findall(text)) > 1 or len(found) != 1:
        raise InvalidURL(
            "One destination is one URL, and this text holds more than one (a second scheme://, or a list "
            "separated by ',' or ';'). Register each destination on its own."
        )
    if scheme in ("http", "https"):
        raise InvalidURL(
            f"Plain {scheme}:// URLs are not accepted: for a webhook write jsons:// (or json://, xml://, form://) "
            "instead, or use the service's own scheme such as discord:// or slack://."
        )
    if scheme not in ALLOWED_SCHEMES:
        raise InvalidURL(f"We do not send to {scheme}:// URLs. Allowed kinds: {_ALLOWED_KINDS}.")
    netloc = re.split(r"[/?#]", text[match.end() :], maxsplit=1)[0]
    host_and_port = netloc.rpartition("@")[2]
    if not host_and_port or host_and_port.startswith(":"):
        raise InvalidURL(f"That URL has no host: something must follow {scheme}:// before any / or ?.")
    return scheme


def _query_params(query: str) -> list[tuple[str, str]]:
    # Mirrors apprise.utils.parse.parse_qsd, so we read the keys exactly as Apprise will.
    params = []
    for pair in re.split(r"[&;]", query):
        key, _, value = pair.partition("=")
        key = key[:1] + key[1:].replace("+", " ")
        params.append((unquote(key).strip().lower(), unquote(value).strip()))
    return params


def _asks_for(value: str) -> bool:
    return value.lower() not in _OFF_VALUES


def _check_params(query: str) -> None:
    for key, value in _query_params(query):
        if key == "redirect" and _asks_for(value):
            raise InvalidURL(_REDIRECT_MESSAGE)
        if key in _LOCAL_FILE_PARAMS:
            raise InvalidURL(f"The {key}= parameter makes the bot read a file from its own disk; remove it.")
        if key == "wkd" and _asks_for(value):
            raise InvalidURL(
                "Web Key Directory lookups (wkd=) fetch keys from the recipients' domains, "
                "which we cannot check; remove that parameter."
            )


@contextlib.contextmanager
def apprise_quietly() -> Iterator[None]:
    """Drop Apprise's log records inside this block (they may quote a URL that did not parse)."""
    token = _parsing.set(True)
    try:
        yield
    finally:
        _parsing.reset(token)


def _instantiate(url: str) -> object | None:
    with apprise_quietly():
        try:
            plugin: object | None = apprise.Apprise.instantiate(url, asset=apprise_asset(), suppress_exceptions=True)
        except Exception:  # a plugin that trips over odd input means "not a valid URL", not a crash
            plugin = None
    return plugin


def _check_plugin_scheme(scheme: str, plugin: object) -> None:
    # The plugin Apprise chose must be the one that serves the scheme we allowed, nothing registered beside it.
    protocols: set[str] = set()
    for attribute in ("protocol", "secure_protocol"):
        value = getattr(type(plugin), attribute, None)
        values = (value,) if isinstance(value, str) else tuple(value or ())
        protocols.update(v.lower() for v in values if isinstance(v, str))
    if scheme not in protocols:
        raise InvalidURL(f"We do not send to {scheme}:// URLs. Allowed kinds: {_ALLOWED_KINDS}.")


def _check_plugin(plugin: object) -> None:
    # Second line of defence: read what the parsed plugin will actually do, whatever the spelling.
    if getattr(plugin, "redirects", False):
        raise InvalidURL(_REDIRECT_MESSAGE)
    template = getattr(plugin, "template", None)
    if (
        (template is not None and len(template))
        or getattr(plugin, "pgp_key", None)
        or getattr(plugin, "pgp_privkey", None)
    ):
        raise InvalidURL("That URL makes the bot read a file from its own disk (template or key file); remove it.")
    if getattr(plugin, "use_wkd", False):
        raise InvalidURL("Web Key Directory lookups (wkd=) fetch keys from domains we cannot check; remove it.")
    # Matrix server discovery reads https://host/.well-known/matrix/client and then talks to
    # whatever server that names: a redirect we cannot check.
    if getattr(plugin, "discovery", False) and getattr(plugin, "secure", False):
        raise InvalidURL(
            "Matrix server discovery would follow the server's .well-known pointer, which we cannot check; "
            "add ?discovery=no and give the homeserver itself."
        )


def _connect_host(scheme: str, plugin: object) -> str | None:
    if scheme not in _WEB_SCHEMES:
        return None
    host = getattr(plugin, "host", None)
    if scheme in ("mailto", "mailtos"):
        host = getattr(plugin, "smtp_host", None) or host
    if not isinstance(host, str) or not host:
        return None  # ntfy cloud mode and matrix t2bot mode post to a fixed public service
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _check_host(host: str, resolve: Resolver) -> None:
    shown = host if len(host) <= 80 else host[:77] + "..."
    literal = _literal_address(host)
    if literal is not None:
        if not _is_public(literal):
            raise InvalidURL(
                f"The address {shown} is private, local or otherwise not on the public internet; "
                f"we only send to public hosts. {_PRIVATE_HINT}"
            )
        return
    try:
        answers = resolve(host)
    except (OSError, UnicodeError, ValueError):
        answers = []
    if not answers:
        raise InvalidURL(f"We could not find the host {shown}: check its spelling, and that it has public DNS.")
    # Every address must be public: the HTTP client may pick any of them. The addresses are not
    # named in the message, so the guard cannot be used to map internal DNS.
    for answer in answers:
        address = _literal_address(answer)
        if address is None or not _is_public(address):
            raise InvalidURL(
                f"The host {shown} points to a private, local or otherwise non-public address; "
                f"we only send to public internet hosts. {_PRIVATE_HINT}"
            )


def _literal_address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    # Legacy IPv4 spellings (127.1, 0x7f000001, 2130706433) that the system resolver, and so the
    # HTTP client, accept as addresses without any DNS.
    if text and all(ch in "0123456789abcdefxABCDEFX." for ch in text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def is_public_address(text: str) -> bool:
    """Whether an address (as text) is one the guard lets us connect to."""
    address = _literal_address(text.split("%", 1)[0])
    return address is not None and _is_public(address)


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _is_public(embedded)
        if address.is_site_local:
            return False
    elif address in _CGNAT:
        return False
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _mask(url: str) -> str:
    text = url.strip()
    match = _SCHEME_RE.match(text)
    if match is None:
        return MASK
    scheme = match.group(1).lower()
    if scheme not in _WEB_SCHEMES:
        return f"{scheme}://{MASK}"
    rest, _, query = text[match.end() :].partition("?")
    cut = re.search(r"[/#]", rest)
    netloc, path = (rest[: cut.start()], rest[cut.start() :]) if cut else (rest, "")
    userinfo, at, host_and_port = netloc.rpartition("@")
    shown = f"{scheme}://"
    if at:
        shown += f"{MASK}:{MASK}@" if ":" in userinfo else f"{MASK}@"
    host, port = _split_host_port(host_and_port)
    shown += host if _host_is_shown(scheme, text, host) else MASK
    if port:
        shown += f":{port}"
    shown += re.sub(r"[^/#]+", MASK, path)
    if query:
        shown += "?" + "&".join(_mask_param(pair) for pair in re.split(r"[&;]", query))
    return shown


def _split_host_port(host_and_port: str) -> tuple[str, str]:
    host, colon, port = host_and_port.rpartition(":")
    if colon and port.isdigit() and len(port) <= 5 and (not host.startswith("[") or host.endswith("]")):
        return host, port
    return host_and_port, ""


def _host_is_shown(scheme: str, url: str, host: str) -> bool:
    # Shown only when Apprise itself connects to that host: ntfy's cloud topics and matrix t2bot
    # tokens sit where a host would, and a URL Apprise cannot parse shows no host at all.
    if not _SHOWN_HOST_RE.fullmatch(host):
        return False
    plugin = _instantiate(url)
    if plugin is None:
        return False
    real = getattr(plugin, "host", None)
    return isinstance(real, str) and real.strip("[]").lower() == host.strip("[]").lower()


def _mask_param(pair: str) -> str:
    key, equals, _ = pair.partition("=")
    return f"{key}={MASK}" if equals and _SHOWN_KEY_RE.fullmatch(key) else MASK


# Checked resolution at connect time. A send runs with a check in its context: every name the sending
# thread resolves (the URL's host, or any other host a plugin or a redirect would reach) goes through the
# guard's resolver and must answer only public addresses, and the socket then connects to exactly the
# addresses that were checked. So a DNS answer that changes between the guard's check and the connection
# (rebinding) cannot reach a private address. `socket.getaddrinfo` is the one place every HTTP and SMTP
# client of the Apprise plugins resolves through; outside a checked send it behaves as before.


@dataclasses.dataclass
class OutboundCheck:
    """The resolver a send's connections use, and why a connection was refused, if one was."""

    resolve: Resolver
    refusal: str | None = None
    # A host name that did not resolve at send time: worth retrying, unlike a refusal.
    unresolved: str | None = None


_outbound: contextvars.ContextVar[OutboundCheck | None] = contextvars.ContextVar("urlguard_outbound", default=None)


@contextlib.contextmanager
def checked_connections(resolve: Resolver = system_resolve) -> Iterator[OutboundCheck]:
    """Inside this block (in this thread or context), connections reach only checked public addresses."""
    check = OutboundCheck(resolve)
    token = _outbound.set(check)
    try:
        yield check
    finally:
        _outbound.reset(token)


def _checked_getaddrinfo(
    host: bytes | str | None,
    port: bytes | str | int | None,
    family: int = 0,
    type: int = 0,
    proto: int = 0,
    flags: int = 0,
) -> list[Any]:
    check = _outbound.get()
    if check is None or host is None:
        return _system_getaddrinfo(host, port, family, type, proto, flags)
    name = (host.decode(errors="replace") if isinstance(host, bytes) else host).strip("[]")
    shown = name if len(name) <= 80 else name[:77] + "..."
    literal = _literal_address(name)
    if literal is not None:
        addresses: list[IPAddress | None] = [literal]
    else:
        try:
            addresses = [_literal_address(answer) for answer in check.resolve(name)]
        except (OSError, UnicodeError, ValueError):
            addresses = []
        if not addresses:
            check.unresolved = f"the destination's host name {shown} could not be resolved"
            raise socket.gaierror(socket.EAI_NONAME, "host not found")
    if any(address is None or not _is_public(address) for address in addresses):
        check.refusal = f"the host {shown} pointed to a private or non-public address when the message was sent"
        raise socket.gaierror(socket.EAI_FAIL, "refused by the outbound URL guard")
    found: list[Any] = []
    for address in addresses:
        try:
            found += _system_getaddrinfo(str(address), port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except socket.gaierror:
            continue  # an address of the other family than the one asked for
    if not found:
        raise socket.gaierror(socket.EAI_NONAME, "no address of the requested family")
    return found


socket.getaddrinfo = _checked_getaddrinfo
