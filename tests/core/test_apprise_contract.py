"""What the URL guard relies on in Apprise's plugins: which host each guarded scheme makes the bot connect to.

The guard checks the address of the host that Apprise's parsed plugin reports (`host`, or `smtp_host`
for e-mail). If a newer Apprise parses these URLs differently, these tests fail, and the guard must be
read against the new plugins before the upper bound in pyproject.toml is raised.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import apprise
import pytest

from core.urlguard import apprise_asset

CHECKED_MINOR = "2.3"


def _plugin(url: str) -> Any:
    plugin = apprise.Apprise.instantiate(url, asset=apprise_asset(), suppress_exceptions=True)
    assert plugin is not None, f"Apprise no longer accepts {url}"
    return plugin


def test_installed_apprise_is_the_minor_the_guard_was_checked_against() -> None:
    """The installed Apprise is 2.3.x, the release whose plugins the guard was read against."""
    assert version("apprise").startswith(CHECKED_MINOR + "."), version("apprise")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("json://hook.example.com/path", "hook.example.com"),
        ("jsons://user:pw@203.0.113.5:8443/x", "203.0.113.5"),
        ("json://u:p@[2001:db8::1]:8080/x", "[2001:db8::1]"),
        ("ntfy://ntfy.example.com/topic", "ntfy.example.com"),
        ("ntfys://user:pw@10.1.2.3/alerts", "10.1.2.3"),
        ("matrix://user:pw@matrix.example.com/#room", "matrix.example.com"),
        ("matrixs://user:pw@192.168.1.9:8448/#room?discovery=no", "192.168.1.9"),
    ],
)
def test_web_schemes_connect_to_the_host_in_the_url(url: str, host: str) -> None:
    """json, ntfy (private mode) and matrix report the URL's own host as the server they post to."""
    assert _plugin(url).host == host


@pytest.mark.parametrize(
    ("url", "mode"),
    [("ntfy://mytopic", "cloud"), ("ntfys://mytopic", "cloud"), ("matrix://" + "a" * 64, "t2bot")],
)
def test_fixed_service_modes_report_no_host(url: str, mode: str) -> None:
    """ntfy cloud mode and matrix t2bot mode report no host: they post to a fixed public service."""
    plugin = _plugin(url)
    assert plugin.mode == mode
    assert not plugin.host


def test_ntfy_cloud_mode_posts_to_ntfy_sh() -> None:
    """ntfy's cloud mode posts to the public ntfy.sh, so there is no user-chosen address to check."""
    assert type(_plugin("ntfy://mytopic")).cloud_notify_url == "https://ntfy.sh"


@pytest.mark.parametrize(
    ("url", "smtp_host"),
    [
        ("mailto://user:pw@gmail.com", "smtp.gmail.com"),
        ("mailto://user:pw@example.com?smtp=mail.example.net", "mail.example.net"),
        ("mailtos://user:pw@example.com", "example.com"),
        ("mailto://user:pw@example.com?smtp=10.0.0.7", "10.0.0.7"),
    ],
)
def test_mailto_connects_to_the_smtp_host(url: str, smtp_host: str) -> None:
    """mailto connects to its smtp_host (a provider's server, smtp=, or the mail domain), which the guard checks."""
    assert _plugin(url).smtp_host == smtp_host
