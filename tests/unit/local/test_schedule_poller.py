"""A schedule that has not fired leaves the shop quiet: `gears local --settle` waits for quiet, so a schedule's
waiting must never look like work (it did, and every settle ran into its five-minute limit)."""

from __future__ import annotations

from typing import Any

from gears.local.pollers import SchedulePoller
from gears.local.workers import InvokeResult


def test_waiting_for_the_next_firing_is_idle_and_a_firing_is_activity() -> None:
    fired: list[Any] = []

    def invoke(event: Any) -> InvokeResult:
        fired.append(event)
        return InvokeResult(request_id="r-1")

    poller = SchedulePoller("Recompute", invoke, "rate(1 hour)", log=lambda _: None)
    poller.last_active -= 5
    poller._stop.set()  # the wait returns at once
    assert poller.poll_once() is False
    assert poller.idle_for >= 5
    assert fired == []

    poller.next = poller.next.replace(year=2000)  # due
    assert poller.poll_once() is True
    assert [e["detail-type"] for e in fired] == ["Scheduled Event"]
    assert poller.next.year > 2000
