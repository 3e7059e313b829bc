"""Where the repository, the test fixtures and the golden messages are."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
GOLDEN = REPO / "tests" / "golden"
GOLDEN_START = GOLDEN / "hazard_event_v1_start.json"
SHARED = REPO.parent / "shared"
