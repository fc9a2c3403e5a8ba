"""Outbound guard and masking for the Apprise URLs users register: where we send, and what they see of it."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ipaddress
import logging
import re
import socket
import unicodedata
from collections.abc import Callable, Iterator
from urllib.parse import unquote

import apprise

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
_REDIRECT_MESSAGE = (
    "That URL asks to follow redirects (redirect=...); we never follow redirects, so remove that parameter."
)


def apprise_asset() -> apprise.AppriseAsset:
    """Return the Apprise settings every send uses: secrets masked in Apprise's logs, no HTTP redirects."""
    return apprise.AppriseAsset(secure_logging=True, http_redirects=False)


def system_resolve(host: str) -> list[str]:
    """Resolve a host name with the system resolver (blocking; run it off the event loop)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)]


def check_url(url: str, *, allow_private: bool, resolve: Resolver = system_resolve) -> str:
    """Return the URL, stripped, if we may send to it; raise InvalidURL saying why not.

    ``allow_private`` (for self-hosters) lifts only the public-address rule.
    """
    text = url.strip() if isinstance(url, str) else ""
    scheme = _check_shape(text)
    _check_params(text.partition("?")[2])
    plugin = _instantiate(text)
    if plugin is None:
        raise InvalidURL(f"That is not a valid {scheme}:// URL: check it against Apprise's documentation for {scheme}.")
    _check_plugin(plugin)
    host = _connect_host(scheme, plugin)
    if host and not allow_private:
        _check_host(host, resolve)
    return text


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
                "we only send to public hosts."
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
                "we only send to public internet hosts."
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
