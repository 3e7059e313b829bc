"""Golden-JSON guards of the other messages that cross edge <-> API (camera status and
heartbeat, zones), the topic layout both sides build, and the one hazard catalogue."""

import json

import pytest
from pydantic import ValidationError

from siteguard.contract.camera import CameraState, CameraStats, CameraStatus
from siteguard.contract.hazards import (
    CATALOGUE,
    HAZARD_NAMES_ZH,
    HazardLevel,
    HazardType,
    hazard_name,
)
from siteguard.contract.topics import (
    MessageKind,
    TopicError,
    Topics,
    is_events,
    parse_topic,
    subscriptions,
)
from siteguard.contract.zones import Zone, ZoneKind
from tests.support.paths import GOLDEN


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("camera_status_v1.json", CameraStatus),
        ("camera_stats_v1.json", CameraStats),
        ("zone_v1.json", Zone),
    ],
)
def test_golden_messages_parse_and_serialise_back_unchanged(name, model):
    doc = json.loads((GOLDEN / name).read_text())
    again = json.loads(model.model_validate(doc).model_dump_json(exclude_none=True))
    assert again == json.loads(json.dumps(doc))  # tuples -> lists, as on the wire


def test_the_edge_status_message_has_exactly_the_v1_fields():
    from datetime import UTC, datetime

    msg = CameraStatus(camera_id="c", state=CameraState.ONLINE, detail="", at=datetime.now(UTC))
    assert set(json.loads(msg.model_dump_json())) == {"camera_id", "state", "at", "detail"}


def test_camera_messages_keep_later_counters_and_refuse_what_cannot_be_used():
    stats = CameraStats.model_validate({"state": "online", "gpu_temp_c": 61})
    assert json.loads(stats.model_dump_json(exclude_none=True))["gpu_temp_c"] == 61
    with pytest.raises(ValidationError):
        CameraStatus.model_validate({"state": ""})
    with pytest.raises(ValidationError):
        CameraStatus.model_validate({"state": "online", "at": "soon"})
    assert CameraStatus.model_validate({"state": "online", "detail": "a\x00b"}).detail == "ab"
    assert len(CameraStatus.model_validate({"state": "x" * 40}).state) == 16


def test_a_heartbeat_names_its_period_and_older_heartbeats_still_parse():
    doc = json.loads((GOLDEN / "camera_stats_v1.json").read_text())
    assert CameraStats.model_validate(doc).interval_s == 10.0
    older = {k: v for k, v in doc.items() if k != "interval_s"}  # an edge before the field
    assert CameraStats.model_validate(older).interval_s is None
    for bad in (0, -1, "soon", float("inf"), float("nan")):
        with pytest.raises(ValidationError):
            CameraStats.model_validate(dict(doc, interval_s=bad))


def test_topic_layout_is_one_for_both_sides():
    t = Topics("siteguard", "site-a")
    assert t.events("cam-1") == "siteguard/site-a/cam-1/events"
    assert t.status("cam-1") == "siteguard/site-a/cam-1/status"
    assert t.stats("cam-1") == "siteguard/site-a/cam-1/stats"
    assert t.available == "siteguard/site-a/available"
    assert subscriptions("siteguard", "api") == [
        f"$share/api/siteguard/+/+/{k}" for k in ("events", "status", "stats")
    ]
    for kind in MessageKind:
        assert parse_topic(t.of("cam-1", kind)) == ("site-a", "cam-1", kind.value)
    assert is_events(t.events("c")) and not is_events(t.status("c"))
    for bad in ("siteguard/site-a", "a//b/events", f"p/{'s' * 65}/c/events"):
        with pytest.raises(TopicError):
            parse_topic(bad)


def test_one_catalogue_names_every_hazard_type_and_its_standards():
    assert set(CATALOGUE) == set(HazardType)
    for t, kind in CATALOGUE.items():
        assert kind.type is t and kind.name_zh and kind.name_en and kind.standards
        assert HAZARD_NAMES_ZH[t.value] == kind.name_zh
        assert hazard_name(t.value, "en") == kind.name_en
    assert CATALOGUE[HazardType.EDGE_UNPROTECTED].default_level is HazardLevel.MAJOR
    assert hazard_name("something_new") == "something_new"


def test_the_notice_measures_cite_the_catalogue_standards():
    from siteguard.api.notices.measures import MEASURES

    assert set(MEASURES) == {t.value for t in HazardType}
    for key, m in MEASURES.items():
        assert m.standards == CATALOGUE[HazardType(key)].standards


def test_zones_without_area_are_refused_without_numpy():
    with pytest.raises(ValidationError, match="no area"):
        Zone(id="z", kind=ZoneKind.EDGE, polygon=[(0, 0), (0.5, 0.5), (1, 1)])
