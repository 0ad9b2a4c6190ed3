"""Unit tests of the payment service: the domain and the use cases with in-memory fakes (no network)."""

from __future__ import annotations

import sys

from tests.conftest import ROOT

if str(ROOT / "functions" / "payment") not in sys.path:  # until pyproject's pythonpath lists the service
    sys.path.insert(0, str(ROOT / "functions" / "payment"))
