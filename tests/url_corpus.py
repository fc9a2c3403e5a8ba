"""Destination URLs an attacker would try, by class, each aimed at a local recorder that must never be reached.

Every URL here must be refused by the URL guard. The names under `.test` resolve only through `resolver`
(the guard's DNS in these tests); the one public address (`PUBLIC`) only ever appears in text that is refused
before any connection is made.
"""

from __future__ import annotations

PUBLIC = "93.184.216.34"
NAMES = {
    "public.test": [PUBLIC],
    "inside.test": ["127.0.0.1"],
    "mixed.test": [PUBLIC, "10.1.2.3"],
    "mapped.test": ["::ffff:127.0.0.1"],
}


def resolver(host: str) -> list[str]:
    """The guard's DNS for these tests: the names above, and nothing else."""
    try:
        return list(NAMES[host.lower()])
    except KeyError:
        raise OSError(f"{host} does not resolve") from None


def corpus(port: int) -> list[tuple[str, str]]:
    """(class, URL) pairs; every URL would reach 127.0.0.1:`port` (or the bot's own destinations) if sent."""
    inside = f"json://127.0.0.1:{port}/x"
    lists = [
        f"jsons://public.test/hook,{inside}",
        f"jsons://public.test/hook;{inside}",
        f"jsons://public.test/hook {inside}",
        f"jsons://public.test/hook\n{inside}",
        f"jsons://public.test/hook\t{inside}",
        f"jsons://public.test/hook,,;;{inside}",
        f"jsons://public.test/hook?a=1,{inside}",
        f"jsons://public.test/hook?a={inside}",
        "discord://1000000002/WhSecret,soonishdiscord://channel/777000111",
        f"ntfys://public.test/topic;{inside}",
    ]
    internal = [
        "soonishdiscord://channel/777000111",
        "soonishdiscord://dm/500000000000000001",
        "SoonishDiscord://channel/777000111",
        "soonishslack://T0OTHER/C0SECRET",
        "soonishconsole://channel",
        "jsons://public.test/hook,soonishslack://T0OTHER/C0SECRET",
        "jsons://public.test/hook;soonishdiscord://dm/1",
        "jsons://public.test/hook?next=soonishconsole://channel",
    ]
    private = [
        f"json://127.0.0.1:{port}/x",
        f"json://127.1:{port}/x",
        f"json://2130706433:{port}/x",
        f"json://0x7f000001:{port}/x",
        f"json://0177.0.0.1:{port}/x",
        f"json://[::1]:{port}/x",
        f"json://[::ffff:127.0.0.1]:{port}/x",
        f"json://[0:0:0:0:0:ffff:7f00:1]:{port}/x",
        f"json://[64:ff9b::7f00:1]:{port}/x",
        f"json://localhost:{port}/x",
        f"json://LOCALHOST:{port}/x",
        f"json://0.0.0.0:{port}/x",
        f"json://10.0.0.1:{port}/x",
        f"json://172.16.0.1:{port}/x",
        f"json://192.168.1.1:{port}/x",
        f"json://100.64.0.1:{port}/x",
        f"json://169.254.169.254:{port}/latest/meta-data",
        f"json://[fe80::1]:{port}/x",
        f"json://[fd00::1]:{port}/x",
        f"ntfy://127.0.0.1:{port}/topic",
        f"gotify://127.0.0.1:{port}/AbCdEfGhIjKlMnO",
        f"apprise://127.0.0.1:{port}/token",
        f"matrix://user:pass@127.0.0.1:{port}/#room?discovery=no",
        f"mailto://user:pass@example.com?smtp=127.0.0.1&port={port}&to=x@example.com",
    ]
    names = [
        f"json://inside.test:{port}/x",
        f"json://mixed.test:{port}/x",
        f"json://mapped.test:{port}/x",
        f"json://nowhere.test:{port}/x",
    ]
    redirects = [
        "jsons://public.test/hook?redirect=yes",
        "jsons://public.test/hook?REDIRECT=1",
        "jsons://public.test/hook?%72edirect=yes",
    ]
    return (
        [("list", u) for u in lists]
        + [("internal", u) for u in internal]
        + [("private", u) for u in private]
        + [("name", u) for u in names]
        + [("redirect", u) for u in redirects]
    )
