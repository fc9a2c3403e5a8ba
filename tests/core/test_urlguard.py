"""The outbound URL guard and URL masking."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from core.errors import InvalidURL
from core.urlguard import ALLOWED_SCHEMES, MAX_URL_LENGTH, apprise_asset, check_url, guard_url, mask_url

PUBLIC = "93.184.216.34"


def answers(*addresses: str, seen: list[str] | None = None) -> Callable[[str], list[str]]:
    """A resolver that answers every name with the given addresses, noting the names asked."""

    def resolve(host: str) -> list[str]:
        if seen is not None:
            seen.append(host)
        return list(addresses)

    return resolve


def no_dns(host: str) -> list[str]:
    """A resolver for checks that must not look anything up."""
    raise AssertionError(f"unexpected DNS lookup of {host}")


def unresolvable(host: str) -> list[str]:
    """A resolver for a name that does not exist."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def refused(url: str, *, allow_private: bool = False, resolve: Callable[[str], list[str]] = no_dns) -> str:
    """Run the guard on a URL it must refuse, and return its message."""
    with pytest.raises(InvalidURL) as caught:
        check_url(url, allow_private=allow_private, resolve=resolve)
    return caught.value.message


def leaks(shown: str, secret: str) -> bool:
    """Whether any 4-character piece of the secret appears in what is shown."""
    return any(secret[i : i + 4] in shown for i in range(len(secret) - 3))


# The guard: addresses


def test_loopback_address_is_refused() -> None:
    """A literal loopback address is refused without any DNS lookup."""
    message = refused("json://127.0.0.1/hook")
    assert "127.0.0.1" in message
    assert "not on the public internet" in message


def test_metadata_address_is_refused() -> None:
    """The cloud metadata address 169.254.169.254 is refused."""
    assert "not on the public internet" in refused("json://169.254.169.254/latest/meta-data")


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.5",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "[::1]",
        "[fc00::1]",
        "[fe80::1]",
        "2130706433",
        "0x7f000001",
    ],
)
def test_private_literal_address_is_refused(host: str) -> None:
    """Private, link-local, shared, unspecified, multicast and legacy-spelled loopback addresses are refused."""
    assert "not on the public internet" in refused(f"jsons://{host}/hook")


def test_name_resolving_to_loopback_is_refused() -> None:
    """A name that resolves to 127.0.0.1 (like localhost) is refused, without naming the address."""
    message = refused("json://localhost/hook", resolve=answers("127.0.0.1"))
    assert "localhost" in message
    assert "non-public address" in message
    assert "127.0.0.1" not in message


def test_name_with_one_private_address_among_public_ones_is_refused() -> None:
    """Every resolved address must be public, not just the first."""
    assert "non-public address" in refused("jsons://mixed.example.com/hook", resolve=answers(PUBLIC, "10.1.2.3"))


def test_ipv4_mapped_private_answer_is_refused() -> None:
    """An IPv6 answer that maps an IPv4 private address is refused."""
    assert "non-public address" in refused("jsons://mapped.example.com/", resolve=answers("::ffff:10.0.0.1"))


def test_unresolvable_host_has_its_own_message() -> None:
    """A host that does not resolve is refused with a message saying it could not be found."""
    message = refused("jsons://nowhere.example/hook", resolve=unresolvable)
    assert "could not find the host nowhere.example" in message


def test_public_host_is_accepted() -> None:
    """A host that resolves only to public addresses is accepted, and the URL's own host is looked up."""
    seen: list[str] = []
    url = "jsons://hooks.example.com/notify"
    assert check_url(url, allow_private=False, resolve=answers(PUBLIC, seen=seen)) == url
    assert seen == ["hooks.example.com"]


def test_accepted_url_is_returned_stripped() -> None:
    """Surrounding whitespace is removed from an accepted URL."""
    assert check_url("  jsons://hooks.example.com/x \n", allow_private=False, resolve=answers(PUBLIC)) == (
        "jsons://hooks.example.com/x"
    )


def test_fixed_service_needs_no_dns() -> None:
    """A Telegram URL (its server is fixed by the plugin) is accepted without looking anything up."""
    url = "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987"
    assert check_url(url, allow_private=False, resolve=no_dns) == url


def test_ntfy_cloud_topic_needs_no_dns() -> None:
    """An ntfy topic without a host posts to ntfy.sh, so its topic is not looked up as a host."""
    assert check_url("ntfys://my-reminders", allow_private=False, resolve=no_dns) == "ntfys://my-reminders"


def test_self_hosted_ntfy_host_is_checked() -> None:
    """A self-hosted ntfy server on a private address is refused."""
    assert "non-public address" in refused("ntfys://ntfy.internal/topic", resolve=answers("10.0.0.7"))


def test_mail_smtp_server_is_checked() -> None:
    """For mailto, the SMTP server we connect to (smtp=) is checked, not only the mail domain."""
    assert "10.0.0.1" in refused("mailtos://me:pw@example.com?smtp=10.0.0.1", resolve=answers(PUBLIC))


# The guard: redirects and parameters


def test_redirect_yes_is_refused() -> None:
    """A URL asking Apprise to follow redirects is refused before any lookup."""
    assert "never follow redirects" in refused("jsons://hooks.example.com/x?redirect=yes")


def test_encoded_redirect_key_is_refused() -> None:
    """The redirect key is read as Apprise reads it: percent-encoding and case do not hide it."""
    assert "never follow redirects" in refused("jsons://hooks.example.com/x?%72EDIRECT=on")


def test_redirect_no_is_accepted() -> None:
    """Explicitly turning redirects off is fine."""
    url = "jsons://hooks.example.com/x?redirect=no"
    assert check_url(url, allow_private=False, resolve=answers(PUBLIC)) == url


def test_template_file_parameter_is_refused() -> None:
    """A template= parameter, which makes the bot read a file from its own disk, is refused."""
    assert "read a file from its own disk" in refused("discord://1234/abcdef?template=/etc/passwd")


def test_web_key_directory_lookup_is_refused() -> None:
    """wkd=yes, which fetches keys from the recipients' domains, is refused."""
    assert "wkd=" in refused("mailtos://me:pw@example.com?wkd=yes", resolve=answers(PUBLIC))


def test_matrix_server_discovery_is_refused() -> None:
    """Matrix server discovery, a redirect we cannot check, is refused with the fix in the message."""
    assert "discovery=no" in refused("matrixs://me:pw@matrix.example.org/#room", resolve=answers(PUBLIC))


def test_matrix_without_discovery_is_accepted() -> None:
    """A Matrix URL with discovery turned off is accepted once its homeserver is public."""
    url = "matrixs://me:pw@matrix.example.org/#room?discovery=no"
    assert check_url(url, allow_private=False, resolve=answers(PUBLIC)) == url


# The guard: schemes and shape


def test_file_scheme_is_refused() -> None:
    """file:// is refused with a message naming the scheme and the allowed kinds."""
    message = refused("file:///etc/passwd")
    assert "file://" in message
    assert "json(s)" in message


def test_https_scheme_is_refused_with_a_hint() -> None:
    """https:// is refused and the message points at jsons://."""
    message = refused("https://hooks.example.com/x")
    assert "https://" in message
    assert "jsons://" in message


def test_unknown_scheme_is_refused() -> None:
    """A scheme outside the allow-list is refused by name."""
    assert "We do not send to gopher:// URLs" in refused("gopher://example.com/")


def test_allowed_schemes_leave_out_raw_web_and_local_schemes() -> None:
    """The allow-list holds the services we chose and none of http, https, file or the desktop schemes."""
    assert {"json", "jsons", "discord", "slack", "tgram", "ntfys", "mailtos"} <= ALLOWED_SCHEMES
    assert not {"http", "https", "file", "dbus", "windows", "syslog"} & ALLOWED_SCHEMES


def test_garbage_is_refused() -> None:
    """Text without a scheme is refused as not a URL."""
    assert "not a URL" in refused("garbage")


def test_empty_url_is_refused() -> None:
    """An empty or blank URL asks for one."""
    assert "Please give a destination URL" in refused("   ")


def test_overlong_url_is_refused() -> None:
    """A URL over the length limit is refused before anything else is read."""
    message = refused("jsons://hooks.example.com/" + "a" * MAX_URL_LENGTH)
    assert "too long" in message
    assert str(MAX_URL_LENGTH) in message


def test_whitespace_inside_is_refused() -> None:
    """A space inside the URL is refused."""
    assert "spaces" in refused("jsons://hooks.example.com/a b")


def test_invisible_character_is_refused() -> None:
    """A control or zero-width character inside the URL is refused."""
    assert "invisible" in refused("jsons://hooks.example.com/a\u200bb")


def test_empty_host_is_refused() -> None:
    """Nothing between the scheme and the path is refused as having no host."""
    assert "no host" in refused("json:///hook")


def test_url_apprise_cannot_parse_is_refused() -> None:
    """A URL of an allowed scheme that Apprise cannot load is refused by scheme."""
    assert "not a valid jsons:// URL" in refused("jsons://exa_mple!.com/")


def test_refusal_message_does_not_repeat_the_secret() -> None:
    """The message of a refused URL names the host but not its password or token."""
    message = refused("jsons://alice:Xq9Hv2Zk@10.0.0.5/Tk7Wm3Qp?+X-Key=Sv8Jr4Ny")
    for secret in ("alice", "Xq9Hv2Zk", "Tk7Wm3Qp", "Sv8Jr4Ny"):
        assert not leaks(message, secret)


# allow_private


def test_allow_private_accepts_loopback() -> None:
    """With allow_private, a loopback address is accepted."""
    assert check_url("json://127.0.0.1:8080/hook", allow_private=True, resolve=no_dns) == "json://127.0.0.1:8080/hook"


def test_allow_private_still_refuses_redirects() -> None:
    """allow_private does not lift the redirect rule."""
    assert "never follow redirects" in refused("json://127.0.0.1/hook?redirect=yes", allow_private=True)


def test_allow_private_still_refuses_file_scheme() -> None:
    """allow_private does not lift the scheme allow-list."""
    assert "file://" in refused("file:///etc/passwd", allow_private=True)


# The async guard and the Apprise settings


async def test_guard_url_accepts_a_public_host() -> None:
    """guard_url runs the same check off the event loop and returns the URL."""
    url = "jsons://hooks.example.com/notify"
    assert await guard_url(url, allow_private=False, resolve=answers(PUBLIC)) == url


async def test_guard_url_refuses_a_private_host() -> None:
    """guard_url raises the same InvalidURL as check_url."""
    with pytest.raises(InvalidURL, match="non-public address"):
        await guard_url("jsons://intranet.example/x", allow_private=False, resolve=answers("192.168.1.1"))


def test_apprise_asset_masks_logs_and_refuses_redirects() -> None:
    """The Apprise asset turns secure logging on and HTTP redirects off."""
    asset = apprise_asset()
    assert asset.secure_logging is True
    assert asset.http_redirects is False


# Masking


def test_mask_hides_user_and_password_but_keeps_host() -> None:
    """The user and password are masked; the host and port of a web scheme stay readable."""
    shown = mask_url("jsons://alice:hunter2pass@hooks.example.com:8443/x")
    assert shown.startswith("jsons://***:***@hooks.example.com:8443/")
    assert not leaks(shown, "alice")
    assert not leaks(shown, "hunter2pass")


def test_mask_hides_path_token() -> None:
    """Every path segment is masked."""
    shown = mask_url("gotifys://gotify.example.com/AbCdEf123456")
    assert shown == "gotifys://gotify.example.com/***"


def test_mask_hides_query_values() -> None:
    """Query values are masked and their keys kept."""
    shown = mask_url("jsons://hooks.example.com/?token=t0k3nvalue&priority=high")
    assert shown == "jsons://hooks.example.com/?token=***&priority=***"


def test_mask_hides_header_values() -> None:
    """Apprise header parameters (+Header=value) keep their name and lose their value."""
    shown = mask_url("json://host.example.com/?+X-Api-Key=s3cr3tvalue")
    assert shown == "json://host.example.com/?+X-Api-Key=***"
    assert not leaks(shown, "s3cr3tvalue")


def test_mask_hides_everything_after_a_service_scheme() -> None:
    """For a service whose token sits in the host part, only the scheme is shown."""
    assert mask_url("tgram://123456:ABCDEF/987") == "tgram://***"


def test_mask_hides_an_ntfy_cloud_topic() -> None:
    """An ntfy cloud topic, which sits where a host would, is not shown."""
    assert mask_url("ntfys://my-private-topic") == "ntfys://***"


def test_mask_never_raises_on_garbage() -> None:
    """Garbage, empty text and non-strings are shown as a bare mask."""
    assert mask_url("garbage") == "***"
    assert mask_url("") == "***"
    assert mask_url(None) == "***"  # type: ignore[arg-type]
