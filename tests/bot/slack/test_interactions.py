"""The Slack front end's modal, errors and permissions, as a Slack user would see them."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from bot.dispatch import APOLOGY
from bot.slack import blocks
from core import service
from core.timeparse import zone
from tests.bot.slack.conftest import CHANNEL, MEMBER, ORGANIZER, SlackBot, button_payload, modal_payload
from tests.bot.slack.test_http import _actor, _buttons, _create

SECRET_TOKEN = "123456789:AAHsecretTelegramToken_x9"
SECRET_PASSWORD = "s3cretpassw0rd"


async def test_event_create_without_arguments_opens_the_modal(slack: SlackBot) -> None:
    """`/event create` alone opens a modal with date and time pickers, tied to the channel."""
    response = await slack.command("/event", "create")
    assert response.status_code == 200
    (call,) = await slack.fake.wait_for(lambda: slack.fake.methods("views.open"))
    assert call.body["trigger_id"] == "1337.42.abcdef"
    view = call.body["view"]
    view = json.loads(view) if isinstance(view, str) else view
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
    assert kinds[blocks.DATE] == "datepicker" and kinds[blocks.TIME] == "timepicker"
    assert view["private_metadata"] == CHANNEL and view["callback_id"] == blocks.CREATE_EVENT


async def test_modal_with_an_empty_name_returns_field_errors(slack: SlackBot) -> None:
    """Submitting the modal without a name answers with an error beside the name field and creates nothing."""
    payload = modal_payload(
        {blocks.NAME: {"type": "plain_text_input", "value": "  "}, blocks.DATE: {}, blocks.TIME: {}}
    )
    response = await slack.interact(payload)
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {blocks.NAME, blocks.DATE, blocks.TIME}
    assert await service.list_events(core=slack.rt.core, actor=_actor(ORGANIZER), include_past=True) == []


async def test_modal_with_a_past_start_returns_an_error_on_the_date(slack: SlackBot) -> None:
    """A start in the past is shown beside the date field."""
    values = {
        blocks.NAME: {"type": "plain_text_input", "value": "Retro"},
        blocks.DATE: {"type": "datepicker", "selected_date": "2020-01-01"},
        blocks.TIME: {"type": "timepicker", "selected_time": "10:00"},
    }
    answer = (await slack.interact(modal_payload(values))).json()
    assert answer["response_action"] == "errors" and blocks.DATE in answer["errors"]


async def test_valid_modal_submission_creates_the_event_and_announces_it(slack: SlackBot) -> None:
    """A complete submission closes the modal, creates the event and posts its announcement in the channel."""
    start = (slack.rt.core.clock() + timedelta(days=3)).astimezone(zone("UTC"))
    values = {
        blocks.NAME: {"type": "plain_text_input", "value": "Board games"},
        blocks.DATE: {"type": "datepicker", "selected_date": f"{start:%Y-%m-%d}"},
        blocks.TIME: {"type": "timepicker", "selected_time": "19:30"},
        blocks.REMIND: {"type": "plain_text_input", "value": "1d, 1h"},
        blocks.LOCATION: {"type": "plain_text_input", "value": "Room 4"},
        blocks.DESCRIPTION: {"type": "plain_text_input", "value": None},
    }
    response = await slack.interact(modal_payload(values))
    assert response.status_code == 200 and response.content in (b"", b"{}")
    (post,) = await slack.fake.wait_for(lambda: slack.fake.posts(CHANNEL))
    code = _buttons(post.body)[blocks.SUBSCRIBE]
    view = await service.show_event(core=slack.rt.core, actor=_actor(ORGANIZER), ref=code)
    assert view.name == "Board games" and view.location == "Room 4" and view.default_offsets == (86400, 3600)
    assert f"{view.start_at:%Y-%m-%d %H:%M}" == f"{start:%Y-%m-%d} 19:30"  # the user's zone is UTC by default


async def test_non_organizer_cannot_cancel(slack: SlackBot) -> None:
    """Another member's `/event cancel` is refused privately and the event stays scheduled."""
    code = await _create(slack, 'create name:"Picnic" start:"in 3 days"')
    await slack.command("/event", f"cancel {code}", user=MEMBER, name="cancel")
    (reply,) = await slack.fake.wait_for(lambda: slack.responses("cancel"))
    assert reply["response_type"] == "ephemeral"
    assert "organizer" in reply["text"].lower()
    view = await service.show_event(core=slack.rt.core, actor=_actor(ORGANIZER), ref=code)
    assert view.status == "scheduled"


async def test_organizer_cancel_is_announced_in_the_channel(slack: SlackBot) -> None:
    """The organizer's `/event cancel` is answered in the channel for everyone."""
    code = await _create(slack, 'create name:"Picnic" start:"in 3 days"')
    await slack.command("/event", f"cancel {code}", user=ORGANIZER, name="cancel")
    (reply,) = await slack.fake.wait_for(lambda: slack.responses("cancel"))
    assert reply["response_type"] == "in_channel" and "cancelled" in reply["text"]


async def test_guarded_url_is_refused_and_urls_are_never_shown_unmasked(slack: SlackBot) -> None:
    """A private-address URL is refused; an accepted one is listed masked; no recorded request holds a secret."""
    await slack.command("/integration", f"add jsons://me:{SECRET_PASSWORD}@127.0.0.1/hook tags:hook", name="bad")
    (refused,) = await slack.fake.wait_for(lambda: slack.responses("bad"))
    assert refused["response_type"] == "ephemeral"
    assert "address" in refused["text"].lower() or "private" in refused["text"].lower()
    await slack.command("/integration", f"add tgram://{SECRET_TOKEN}/12345 tags:phone label:tg", name="good")
    (added,) = await slack.fake.wait_for(lambda: slack.responses("good"))
    assert added["response_type"] == "ephemeral" and "tgram://" in added["text"]
    await slack.command("/integration", "list", name="list")
    (listed,) = await slack.fake.wait_for(lambda: slack.responses("list"))
    assert listed["response_type"] == "ephemeral" and "tg" in listed["text"]
    for call in slack.fake.calls:
        assert SECRET_PASSWORD not in call.raw and SECRET_TOKEN not in call.raw
        assert "AAHsecret" not in call.raw


async def test_unexpected_failure_yields_a_timely_friendly_answer(
    slack: SlackBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash inside a handler is still acknowledged at once and answered with an apology."""
    code = await _create(slack, 'create name:"Quiz" start:"in 3 days"')

    async def broken(**kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(service, "subscribe", broken)
    started = time.monotonic()
    response = await slack.interact(button_payload(slack.fake, blocks.SUBSCRIBE, code, name="boom"))
    assert response.status_code == 200
    (reply,) = await slack.fake.wait_for(lambda: slack.responses("boom"), timeout=3)
    assert time.monotonic() - started < 3
    assert reply["text"] == APOLOGY and reply["response_type"] == "ephemeral"
    assert "on fire" not in json.dumps(reply)


async def test_unknown_subcommand_gets_a_private_explanation(slack: SlackBot) -> None:
    """A grammar mistake is explained to the user only."""
    await slack.command("/event", "frobnicate", name="oops")
    (reply,) = await slack.fake.wait_for(lambda: slack.responses("oops"))
    assert reply["response_type"] == "ephemeral" and "Unknown command" in reply["text"]


async def test_an_announcement_the_channel_refuses_is_explained_to_the_organizer(slack: SlackBot) -> None:
    """When the bot may not post in the channel, the organizer learns the event exists and what to do."""
    slack.fake.refuse[CHANNEL] = "not_in_channel"
    await slack.command("/event", 'create name:"Hidden" start:"in 3 days"', name="refused")
    (reply,) = await slack.fake.wait_for(lambda: slack.responses("refused"))
    assert reply["response_type"] == "ephemeral"
    assert "is created" in reply["text"] and "not_in_channel" in reply["text"]
    (view,) = await service.list_events(core=slack.rt.core, actor=_actor(ORGANIZER))
    assert view.name == "Hidden"


async def test_text_replies_are_private_and_write_times_in_slack_date_markup(slack: SlackBot) -> None:
    """`/timezone` and `/event info` answer only the asker; instants use `<!date^…>` with a fallback in their zone."""
    await slack.command("/timezone", "Europe/Berlin", name="tz")
    (tz,) = await slack.fake.wait_for(lambda: slack.responses("tz"))
    assert tz["response_type"] == "ephemeral" and "Europe/Berlin" in tz["text"]
    code = await _create(slack, 'create name:"Talk" start:"in 3 days"')
    await slack.command("/event", f"info {code}", name="info")
    (info,) = await slack.fake.wait_for(lambda: slack.responses("info"))
    assert info["response_type"] == "ephemeral"
    shown = json.dumps(info["blocks"])
    assert "<!date^" in shown and "Europe/Berlin>" in shown


async def test_modal_with_a_bad_reminder_shows_the_error_beside_the_reminders(slack: SlackBot) -> None:
    """A reminder offset the core refuses is shown at the reminders field, not at the date."""
    start = (slack.rt.core.clock() + timedelta(days=3)).astimezone(zone("UTC"))
    values = {
        blocks.NAME: {"type": "plain_text_input", "value": "Retro"},
        blocks.DATE: {"type": "datepicker", "selected_date": f"{start:%Y-%m-%d}"},
        blocks.TIME: {"type": "timepicker", "selected_time": "10:00"},
        blocks.REMIND: {"type": "plain_text_input", "value": "sometimes"},
    }
    answer = (await slack.interact(modal_payload(values))).json()
    assert answer["response_action"] == "errors" and list(answer["errors"]) == [blocks.REMIND]
    assert "sometimes" in answer["errors"][blocks.REMIND]


async def test_a_rate_limited_announcement_is_not_blamed_on_membership(slack: SlackBot) -> None:
    """When Slack keeps rate-limiting, the organizer is told so, not asked to invite a bot already there."""
    slack.fake.refuse[CHANNEL] = "ratelimited"
    await slack.command("/event", 'create name:"Busy" start:"in 3 days"', name="limited")
    (reply,) = await slack.fake.wait_for(lambda: slack.responses("limited"))
    assert "is created" in reply["text"] and "rate-limiting" in reply["text"]
    assert "invite" not in reply["text"].lower()


async def test_a_workspace_admin_may_cancel_a_members_event(slack: SlackBot) -> None:
    """A workspace admin (users.info) cancels an event someone else organized; the event is cancelled."""
    slack.fake.admins.add(MEMBER)
    code = await _create(slack, 'create name:"Picnic" start:"in 3 days"')
    await slack.command("/event", f"cancel {code}", user=MEMBER, name="admin")
    (reply,) = await slack.fake.wait_for(lambda: slack.responses("admin"))
    assert reply["response_type"] == "in_channel" and "cancelled" in reply["text"]
    view = await service.show_event(core=slack.rt.core, actor=_actor(ORGANIZER), ref=code)
    assert view.status == "cancelled"


async def test_calendar_command_answers_privately_with_the_feed_address(slack: SlackBot) -> None:
    """`/calendar` is a Slack command too, answered only to the member, with their feed's address."""
    await slack.command("/calendar", "", user=MEMBER, name="cal")
    (reply,) = await slack.fake.wait_for(lambda: slack.responses("cal"))
    assert reply["response_type"] == "ephemeral" and "/calendar/" in reply["text"]
