"""Thousands of malformed hazard events (hypothesis): the parser never crashes, every
message is either stored or rejected with a reason, and every rejection is counted and
kept as a dead letter."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siteguard.api.intake.events import Ingestor
from siteguard.api.store.db import create_schema, make_engine, make_sessions
from siteguard.api.store.tables import DeadLetterRow, EventRow
from tests.support.paths import GOLDEN_START

GOLDEN = json.loads(GOLDEN_START.read_text())
FIELDS = sorted(GOLDEN)
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.lists(st.integers(), max_size=5),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.sampled_from(
        ["", "\x00", "2026-13-40T99:00:00Z", "start", "major", "no_helmet", "x" * 5000]
    ),
)
# a valid event with one to three fields deleted or replaced by junk
mutated = st.builds(
    lambda edits: (edits, GOLDEN),
    st.lists(
        st.tuples(st.sampled_from(FIELDS), st.one_of(st.just("<delete>"), junk)),
        min_size=1,
        max_size=3,
    ),
)
raw = st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode))


def apply(edits):
    doc = dict(GOLDEN)
    for field, value in edits:
        if value == "<delete>":
            doc.pop(field, None)
        else:
            doc[field] = value
    return json.dumps(doc, allow_nan=True).encode()


@pytest.fixture(scope="module")
def ingestor(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/f.db")
    create_schema(engine)
    # no rate cap here: thousands of one site's messages a minute is the point of the test
    return Ingestor(make_sessions(engine), 3600, max_payload_bytes=4096, per_site_per_minute=10**9)


@pytest.fixture(scope="module")
def pg_ingestor(postgres):
    engine = make_engine(postgres.new_database())
    create_schema(engine)
    return Ingestor(make_sessions(engine), 3600, max_payload_bytes=4096, per_site_per_minute=10**9)


def check(ingestor, data):
    before = dict(ingestor.counts)
    result = ingestor.ingest_raw(data, "fuzz")
    assert result.status in ("new", "duplicate", "rejected")
    if result.status == "rejected":
        assert result.reason
    delta = {k: ingestor.counts[k] - before.get(k, 0) for k in ("new", "duplicate", "rejected")}
    assert sum(delta.values()) == 1 and delta[result.status] == 1


@settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated)
def test_mutated_events_are_stored_or_rejected_never_crash(ingestor, case):
    edits, _ = case
    check(ingestor, apply(edits))


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw)
def test_arbitrary_bytes_are_rejected_with_a_reason(ingestor, data):
    check(ingestor, data)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(mutated.map(lambda case: apply(case[0])), raw))
def test_on_postgresql_generated_messages_are_stored_or_dead_lettered(pg_ingestor, data):
    """PostgreSQL bounds what SQLite does not (column lengths, 32-bit integers, NUL in
    text): none of it may escape as an error or stop ingest."""
    check(pg_ingestor, data)


def test_every_rejection_was_counted_and_kept(ingestor):
    """Runs after the two above (same module-scoped ingestor)."""
    with ingestor.sessions() as s:
        dead = s.query(DeadLetterRow).count()
        stored = s.query(EventRow).count()
    assert ingestor.counts["rejected"] == dead > 3000
    assert ingestor.counts["new"] == stored
