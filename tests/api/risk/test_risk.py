"""The risk model's promises, as properties over generated projects."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siteguard.api.risk.model import ProjectSignals, RiskSettings, assess

signals = st.builds(
    ProjectSignals,
    camera_hours=st.floats(0, 20_000),
    scheduled_camera_hours=st.floats(0, 20_000),
    general_hazards=st.integers(0, 500),
    major_hazards=st.integers(0, 100),
    repeat_hazards=st.integers(0, 100),
    notices=st.integers(0, 100),
    closed_on_time=st.integers(0, 100),
    unrectified_major=st.integers(0, 50),
    rejected_rectifications=st.integers(0, 50),
)
bands = st.floats(0.05, 0.5)


@settings(max_examples=300, deadline=None)
@given(signals, bands)
def test_the_factor_never_leaves_the_band(s, band):
    s = replace(s, closed_on_time=min(s.closed_on_time, s.notices))
    a = assess(s, RiskSettings(band=band))
    assert 1 - band - 1e-9 <= a.factor <= 1 + band + 1e-9
    assert 0 <= a.score <= 1 and 0 <= a.confidence < 1


@settings(max_examples=300, deadline=None)
@given(signals, st.integers(1, 20))
def test_more_unrectified_major_hazards_never_lower_the_factor(s, more):
    s = replace(s, closed_on_time=min(s.closed_on_time, s.notices))
    worse = replace(
        s, unrectified_major=s.unrectified_major + more, major_hazards=s.major_hazards + more
    )
    assert assess(worse).factor >= assess(s).factor


@settings(max_examples=200, deadline=None)
@given(signals)
def test_switching_cameras_off_never_makes_a_site_look_safer(s):
    s = replace(
        s,
        closed_on_time=min(s.closed_on_time, s.notices),
        scheduled_camera_hours=max(s.camera_hours, 1),
    )
    dark = replace(
        s, scheduled_camera_hours=s.scheduled_camera_hours * 3 + 1
    )  # same watched hours, longer off
    assert assess(dark).score >= assess(s).score


def test_no_data_is_neutral_and_more_cameras_dilute_the_same_hazards():
    a = assess(ProjectSignals())
    assert a.factor == 1.0 and a.confidence == 0 and a.rate_per_mille == 1.65
    few = assess(ProjectSignals(camera_hours=200, scheduled_camera_hours=200, general_hazards=10))
    many = assess(
        ProjectSignals(camera_hours=2000, scheduled_camera_hours=2000, general_hazards=10)
    )
    assert many.components["hazard_rate"] < few.components["hazard_rate"]


def test_a_bad_project_is_explained_and_inspected_weekly():
    bad = ProjectSignals(
        camera_hours=2000,
        scheduled_camera_hours=2400,
        general_hazards=60,
        major_hazards=8,
        repeat_hazards=12,
        notices=10,
        closed_on_time=3,
        unrectified_major=3,
        rejected_rectifications=4,
    )
    good = ProjectSignals(
        camera_hours=2000,
        scheduled_camera_hours=2000,
        general_hazards=2,
        notices=2,
        closed_on_time=2,
    )
    a, g = assess(bad), assess(good)
    assert a.factor > 1.05 and g.factor < 0.9
    assert a.inspection == "weekly" and g.inspection == "monthly"
    assert any("overdue unrectified major hazards" in r for r in a.reasons)
    assert sum(a.contributions.values()) == pytest.approx(a.score - 0.25, abs=1e-3)
    assert a.premium(10_000_000) == pytest.approx(10_000_000 * a.rate_per_mille / 1000)
    assert 1.65 * 0.8 <= a.rate_per_mille <= 1.65 * 1.2


@settings(max_examples=300, deadline=None)
@given(signals, st.floats(0, 1))
def test_watching_fewer_of_the_scheduled_hours_never_lowers_the_factor(s, keep):
    """Same hazards, same schedule, cameras on for less of it: never a better factor (the
    unwatched hours are not assumed clean, and confidence does not shrink)."""
    s = replace(
        s,
        closed_on_time=min(s.closed_on_time, s.notices),
        scheduled_camera_hours=max(s.scheduled_camera_hours, s.camera_hours),
    )
    dimmer = replace(s, camera_hours=s.camera_hours * keep)
    assert assess(dimmer).factor >= assess(s).factor - 1e-9
