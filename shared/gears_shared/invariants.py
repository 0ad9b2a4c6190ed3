"""What must hold of a service's data once the shop is quiet: the contract between a service's ``invariants.py`` and
``gears check`` (which finds every such module beside the template's functions and runs it; nothing lists them).

A service writes ``<package>/invariants.py`` with one function::

    def checks(items: Iterable[dict[str, Any]], shop: Shop) -> list[Check]:
        ...

``items`` are its own table's items, plain (numbers as ``int`` or ``float``); ``shop`` says when the check runs
and what else may be asked of the running shop (the payment provider's record of charges, when there is one). Each
:class:`Check` names one rule, counts what it looked at and lists what breaks it. An operator's tool, not a request
path: it reads whole tables, which nothing that serves a customer may do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MAX_LISTED = 20  # problems listed per check; the count is always whole


@dataclass
class Check:
    name: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def saw(self, n: int = 1) -> None:
        self.checked += n

    def fail(self, problem: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "ok": self.ok,
            "checked": self.checked,
            "problems": self.problem_count,
            "examples": self.problems,
        }


@dataclass
class Shop:
    """What a service's checks may ask of the running shop besides its own table."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The payment provider's PaymentIntents (Stripe's shape), when the shop runs against one it can list.
    payment_intents: Callable[[], list[dict[str, Any]]] | None = None
    # PayPal's orders (Orders v2 shape, captures inside), when the shop runs against a PayPal it can list.
    paypal_orders: Callable[[], list[dict[str, Any]]] | None = None
    # How long something may stay in flight before it counts as stuck (the saga's steps retry within this).
    in_flight_s: float = 120.0

    def age_s(self, iso: str | None) -> float:
        if not iso:
            return float("inf")
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        return (self.now - moment).total_seconds()
