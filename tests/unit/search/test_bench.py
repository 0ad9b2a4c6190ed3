"""``python -m gears.bench_search`` runs end to end (small, so the tier stays fast) and writes its report."""

from __future__ import annotations

import re
from pathlib import Path

from gears import bench_search


def test_the_bench_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "search.md"
    assert bench_search.main(["--products", "500", "--repeat", "2", "--out", str(out)]) == 0
    text = out.read_text()
    assert re.search(r"^\| real catalog \| [\d,]{5} \|", text, re.M)  # the demo catalog's thousands
    assert "| generated catalog | 500 |" in text
    assert text.count("| one word |") == 2
