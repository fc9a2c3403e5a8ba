"""Nothing the Slack front end sends can mention anyone from user text: `& < >` are escaped on the way out."""

from __future__ import annotations

import json
import re

from bot.slack import blocks
from tests.bot.slack.conftest import CHANNEL, MEMBER, ORGANIZER, SlackBot, button_payload
from tests.bot.slack.test_http import _buttons

# Slack sends a typed `<!channel>` escaped; a mention picked from the menu arrives as markup.
TYPED = "&lt;!channel&gt; Pizza @everyone @here &lt;@U0123&gt; &lt;!subteam^S0456&gt; &amp; more"
PICKED = "<!here> Brunch <@U0123>"
# Anything Slack would read as a mention, a channel link or a special command; `<!date^…>` is ours.
MARKUP = re.compile(r"<(?!!date\^)[!@#]")


def front_end_messages(slack: SlackBot) -> list[str]:
    """Every message the front end sent (posts, edits, responses), as JSON; the worker's own posts left out."""
    methods = ("chat.postMessage", "chat.update", "chat.postEphemeral")
    return [
        json.dumps(c.body)
        for c in slack.fake.calls
        if (c.method in methods or c.method.startswith("respond/")) and "httpx" not in c.headers.get("User-Agent", "")
    ]


async def test_mentions_typed_into_an_event_name_ping_no_one(slack: SlackBot) -> None:
    """A name with `<!channel>`, `@everyone`, a user and a group is announced, shown, updated and cancelled as text."""
    await slack.command("/event", f'create name:"{TYPED}" start:"in 3 days"')
    (post,) = await slack.fake.wait_for(lambda: slack.fake.posts(CHANNEL))
    code = _buttons(post.body)[blocks.SUBSCRIBE]
    assert "&lt;!channel&gt;" in post.body["text"] and "&amp; more" in post.body["text"]
    await slack.interact(button_payload(slack.fake, blocks.SUBSCRIBE, code, user=MEMBER, name="sub"))
    await slack.command("/event", f"info {code}", user=MEMBER, name="info")
    await slack.command("/event", "list", user=MEMBER, name="list")
    await slack.command("/event", f'update {code} location:"<!everyone> hall"', name="update")
    await slack.command("/event", f"cancel {code}", user=MEMBER, name="refused")
    await slack.command("/event", f"cancel {code}", user=ORGANIZER, name="cancel")
    for name in ("sub", "info", "list", "update", "refused", "cancel"):
        await slack.fake.wait_for(lambda name=name: slack.responses(name))
    sent = front_end_messages(slack)
    assert len(sent) >= 7
    assert [m for m in sent if MARKUP.search(m)] == []


async def test_picked_mentions_in_a_name_are_escaped_too(slack: SlackBot) -> None:
    """A mention Slack sent as markup (`<!here>`, `<@U…>`) in a name is shown as text, not as a ping."""
    await slack.command("/event", f'create name:"{PICKED}" start:"in 3 days"')
    (post,) = await slack.fake.wait_for(lambda: slack.fake.posts(CHANNEL))
    assert "&lt;!here&gt; Brunch &lt;@U0123&gt;" in post.body["text"]
    await slack.command("/event", "info nothing-called-&lt;!channel&gt;", name="missing")
    (reply,) = await slack.fake.wait_for(lambda: slack.responses("missing"))
    assert "&lt;!channel&gt;" in reply["text"]
    assert [m for m in front_end_messages(slack) if MARKUP.search(m)] == []
