from datetime import UTC, datetime, timedelta

import pytest

from siteguard.contract.events import EventState, HazardEvent
from siteguard.contract.hazards import HazardLevel, HazardType
from siteguard.edge.lifecycle import HazardLifecycle, LifecycleConfig, Observation
from siteguard.pipeline.detector import ModelRef

T0 = datetime(2026, 10, 5, 8, 30, tzinfo=UTC)
MODEL = ModelRef("m", "1", "a" * 64)


def lifecycle(**cfg):
    n = iter(range(1000))
    return HazardLifecycle(
        "site-1",
        "cam-1",
        MODEL,
        LifecycleConfig(**cfg),
        id_factory=lambda: f"evt_test{next(n):04d}",
    )


def ob(key="no_helmet/track-1", score=0.8, level=HazardLevel.GENERAL):
    return Observation(key, HazardType.NO_HELMET, level, score, "bare head")


def run(lc, frames):
    """frames: list of (t, [observations]) -> all events, each re-validated from JSON."""
    out = []
    for t, obs in frames:
        for ev in lc.observe(obs, t, T0 + timedelta(seconds=t), (640, 352)):
            out.append(HazardEvent.model_validate_json(ev.to_json()))
    return out


def test_one_hazard_is_one_event_with_start_updates_and_end():
    lc = lifecycle(min_duration_s=1.0, min_frames=2, end_grace_s=3.0, update_interval_s=5.0)
    frames = [(t * 0.5, [ob()]) for t in range(25)] + [(t * 0.5, []) for t in range(25, 35)]
    evs = run(lc, frames)
    assert [e.state for e in evs] == [
        EventState.START,
        EventState.UPDATE,
        EventState.UPDATE,
        EventState.END,
    ]
    assert {e.event_id for e in evs} == {"evt_test0000"}
    assert [e.seq for e in evs] == [0, 1, 2, 3]
    start, end = evs[0], evs[-1]
    assert start.started_at == T0 and start.frame_time == T0 + timedelta(seconds=1.0)
    assert end.ended_at == T0 + timedelta(seconds=15.0)  # last seen at 12 s + 3 s grace
    assert lc.open_hazards == 0


def test_a_single_noisy_frame_or_a_weak_median_raises_nothing():
    lc = lifecycle(min_duration_s=1.0, min_frames=2, min_median_score=0.5, end_grace_s=2.0)
    assert run(lc, [(0.0, [ob()]), (0.5, []), (1.0, []), (5.0, [])]) == []
    lc = lifecycle(min_duration_s=1.0, min_frames=2, min_median_score=0.5)
    assert run(lc, [(t * 0.5, [ob(score=0.3)]) for t in range(10)]) == []


def test_separate_subjects_are_separate_events():
    lc = lifecycle(min_duration_s=0.5, min_frames=2)
    evs = run(lc, [(t * 0.5, [ob("no_helmet/track-1"), ob("no_helmet/track-2")]) for t in range(3)])
    assert [e.state for e in evs] == [EventState.START, EventState.START]
    assert len({e.event_id for e in evs}) == 2


def test_level_escalates_with_duration_and_never_drops():
    lc = lifecycle(
        min_duration_s=0.5,
        min_frames=2,
        update_interval_s=100,
        major_after_s={HazardType.NO_HELMET: 3.0},
    )
    evs = run(lc, [(t * 0.5, [ob()]) for t in range(10)])
    assert [(e.state, e.level) for e in evs] == [
        (EventState.START, HazardLevel.GENERAL),
        (EventState.UPDATE, HazardLevel.MAJOR),
    ]
    evs = run(lc, [(5.0, [ob()]), (100.0, [ob()])])
    assert all(e.level is HazardLevel.MAJOR for e in evs)


def test_close_all_ends_open_events():
    lc = lifecycle(min_duration_s=0.0, min_frames=1)
    [start] = run(lc, [(0.0, [ob()])])
    [end] = lc.close_all(1.0, T0 + timedelta(seconds=1), (640, 352))
    assert end.state is EventState.END and end.event_id == start.event_id and end.seq == 1


def test_config_is_validated():
    with pytest.raises(ValueError):
        LifecycleConfig(min_frames=0)
    with pytest.raises(ValueError):
        LifecycleConfig.model_validate({"grace": 3})
