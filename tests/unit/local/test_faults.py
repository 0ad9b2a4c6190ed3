"""The fault board: which invocation carries a crash, how often, and what happens to a turn that did not fire."""

from __future__ import annotations

from pathlib import Path

import pytest

from gears.local.faults import CrashFault, FaultBoard


def batch(*bodies: str) -> dict[str, object]:
    return {"Records": [{"messageId": str(i), "body": b} for i, b in enumerate(bodies)]}


def test_a_fault_fires_on_matching_invocations_only_and_a_spared_turn_is_given_back(tmp_path: Path) -> None:
    board = FaultBoard(tmp_path / "faults.json")
    assert board.take("Fn", batch("a")) is None  # nothing armed: no file, no fault
    armed = board.arm(CrashFault("Fn", "dynamodb:TransactWriteItems", calls=2, min_records=2, containing="SKU-1"))

    assert board.take("Other", batch("SKU-1", "SKU-1")) is None
    assert board.take("Fn", batch("SKU-1")) is None  # too few records
    assert board.take("Fn", batch("SKU-2", "SKU-2")) is None  # not about what it waits for
    fault = board.take("Fn", batch("SKU-1", "SKU-1"))
    assert fault is not None
    assert fault.id == armed.id
    assert fault.arming() == {"id": armed.id, "after": "dynamodb:TransactWriteItems", "calls": 2}
    assert board.take("Fn", batch("SKU-1", "SKU-1")) is None  # its one turn is out

    board.settle(fault, crashed=False)  # the invocation made fewer calls than it waits for
    assert board.list()[0].times == 1
    fault = board.take("Fn", batch("SKU-1", "SKU-1"))
    assert fault is not None
    board.settle(fault, crashed=True)
    (left,) = FaultBoard(tmp_path / "faults.json").list()  # another process sees the same
    assert (left.times, left.fired) == (0, 1)
    assert board.clear() == 1
    assert board.list() == []
    assert not board.path.exists()  # cleared: the next invocation's check is a stat again


@pytest.mark.parametrize("bad", [{"calls": 0}, {"after": "TransactWriteItems"}, {"times": -1}])
def test_a_fault_that_means_nothing_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"calls|service:Operation|times"):
        CrashFault("Fn", **bad)  # type: ignore[arg-type]
