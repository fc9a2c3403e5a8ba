"""The attacker's corpus through Slack's /integration add: each URL refused privately, none reached."""

from __future__ import annotations

from tests.bot.slack.conftest import SlackBot
from tests.sinks import ConnectionRecorder
from tests.url_corpus import corpus


async def test_slack_refuses_corpus_urls_privately_and_reaches_nothing(slack: SlackBot) -> None:
    """One URL of each class is refused in an ephemeral reply; no other workspace's channel is posted to."""
    recorder = ConnectionRecorder()
    try:
        chosen: dict[str, list[str]] = {}
        for kind, url in corpus(recorder.port):
            if not any(ch.isspace() for ch in url) and len(chosen.setdefault(kind, [])) < 3:
                chosen[kind].append(url)
        for number, url in enumerate(u for urls in chosen.values() for u in urls):
            name = f"add{number}"
            await slack.command("/integration", f"add {url} tags:hook", name=name)
            (reply,) = await slack.fake.wait_for(lambda name=name: slack.responses(name))  # type: ignore[misc]
            assert reply["response_type"] == "ephemeral" and "added" not in reply["text"].lower(), (url, reply)
        await slack.command("/integration", "list", name="list")
        (listed,) = await slack.fake.wait_for(lambda: slack.responses("list"))
        assert "no destinations" in listed["text"].lower()
        assert recorder.connections == 0
        assert slack.fake.posts("C0SECRET") == []
    finally:
        recorder.close()
