"""The text front ends' one error handler shows a reached quota as a private reply that says when to retry."""

from __future__ import annotations

import dataclasses

from bot.dispatch import execute_line
from bot.runtime import Runtime
from core.quotas import UNLIMITED, Quota
from tests.conftest import MEMBER, ORGANIZER


async def test_quota_reply_is_private_and_says_when_to_retry(runtime: Runtime) -> None:
    """A second /subscribe change within the quota's window is answered privately with the wait, not an apology."""
    core = dataclasses.replace(runtime.core, quotas=dataclasses.replace(UNLIMITED, subscribes_per_user=Quota(1, 600)))
    created = await execute_line('/event create name:"Game night" start:"in 3 days"', core=core, actor=ORGANIZER)
    assert created.text.startswith("Event created."), created.text
    first = await execute_line('/subscribe "Game night"', core=core, actor=MEMBER)
    assert first.text.startswith("Subscribed to Game night"), first.text
    again = await execute_line('/subscribe "Game night" remind:"2h"', core=core, actor=MEMBER)
    assert again.private
    assert again.text == (
        "You have subscribed or changed a subscription 1 time in the last 10 minutes, the most allowed. "
        "Try again in 10 minutes."
    )
