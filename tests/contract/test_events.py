"""Golden-JSON guard of the hazard event wire format (schema v1)."""

import json

import pytest
from pydantic import ValidationError

from siteguard.contract.events import EventState, HazardEvent, event_json_schema_text
from siteguard.contract.hazards import HazardType
from tests.support.paths import GOLDEN, REPO


@pytest.mark.parametrize("name", ["hazard_event_v1_start.json", "hazard_event_v1_end.json"])
def test_golden_events_parse_and_serialise_back_unchanged(name):
    doc = json.loads((GOLDEN / name).read_text())
    ev = HazardEvent.model_validate(doc)
    again = json.loads(ev.to_json())
    # times are serialised as ISO 8601 UTC: compare them as instants, the rest as values
    reparsed = HazardEvent.model_validate(again)
    for k in ("started_at", "frame_time", "ended_at"):
        assert getattr(reparsed, k) == getattr(ev, k)
        doc.pop(k), again.pop(k)
    assert again == doc


def test_wire_field_set_is_exactly_the_v1_set():
    ev = HazardEvent.model_validate_json((GOLDEN / "hazard_event_v1_start.json").read_text())
    assert set(json.loads(ev.to_json())) == {
        "schema_version",
        "event_id",
        "seq",
        "state",
        "site_id",
        "camera_id",
        "hazard_type",
        "level",
        "reason",
        "score",
        "boxes",
        "zones",
        "frame_width",
        "frame_height",
        "started_at",
        "frame_time",
        "ended_at",
        "evidence_uri",
        "evidence_missing",
        "model",
    }
    assert ev.key == ("evt_01JD7Q3K4T0000000000000001", 0)
    assert ev.state is EventState.START and ev.hazard_type is HazardType.NO_HELMET


def test_a_newer_minor_version_with_extra_fields_is_still_accepted():
    doc = json.loads((GOLDEN / "hazard_event_v1_start.json").read_text())
    doc["schema_version"] = "1.3"
    doc["some_future_field"] = {"x": 1}
    assert HazardEvent.model_validate(doc).schema_version == "1.3"


@pytest.mark.parametrize(
    "patch, message",
    [
        ({"schema_version": "2.0"}, "schema_version"),
        ({"seq": 1}, "seq must be 0"),
        ({"state": "end"}, "seq must be 0"),
        ({"hazard_type": "smoking"}, "hazard_type"),
        ({"level": "一般"}, "level"),
        ({"site_id": "a/b"}, "site_id"),
        ({"started_at": "2026-10-05T08:30:00"}, "time zone"),
        ({"frame_time": "2026-10-05T08:00:00Z"}, "before started_at"),
        ({"ended_at": "2026-10-05T08:31:00Z"}, "only an end message"),
        ({"score": 1.5}, "score"),
        ({"reason": "bare head\x00"}, "NUL"),
        ({"boxes": [{"label": "head\x00", "score": 0.5, "box": [0, 0, 1, 1]}]}, "label"),
        ({"model": {"name": "m", "version": "1", "sha256": "xyz"}}, "sha256"),
    ],
)
def test_invalid_events_are_rejected_with_the_reason(patch, message):
    doc = json.loads((GOLDEN / "hazard_event_v1_start.json").read_text())
    doc.update(patch)
    with pytest.raises(ValidationError, match=message):
        HazardEvent.model_validate(doc)


def test_exported_json_schema_file_is_current():
    """`siteguard schema --write contract/schema/hazard_event.v1.json` after a schema change."""
    committed = (REPO / "contract" / "schema" / "hazard_event.v1.json").read_text("utf-8")
    assert committed == event_json_schema_text()
