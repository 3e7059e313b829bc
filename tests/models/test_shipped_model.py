"""The shipped default model, on held-out real photos (tests/fixtures: images from the
test split, never trained on). Thresholds here are loose floors: they catch a broken or
swapped model, not small accuracy changes (docs/models.md has the measured figures)."""

import json

import pytest

from siteguard.cli import main
from siteguard.demo.sample import sample_video_path
from siteguard.models.registry import default_model_path
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.model_card import load_card


def run_json(capsys, *paths, extra=()):
    code = main(["detect", "--json", *extra, *map(str, paths)])
    return code, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_default_model_loads_verified_with_a_complete_card():
    card, onnx_path = load_card(default_model_path())
    assert card.classes == ["person", "hardhat", "head", "vest"]
    assert card.data and all(d.licence for d in card.data)
    assert card.training["data_manifest_sha256"] and card.training["seed"] == 0
    assert "head" in card.thresholds.per_class  # calibrated on the validation split
    assert card.metrics.get("test", {}).get("classes")  # evaluated on the held-out split
    OnnxDetector(onnx_path).warmup(1)


def test_bare_heads_are_found_and_helmeted_workers_are_not_flagged(capsys, fixtures):
    code, recs = run_json(capsys, fixtures / "images")
    assert code == 0 and len(recs) == 6
    by = {r["source"].rsplit("/", 1)[-1]: r for r in recs}
    crowd = by["hhw-000160.jpg"]  # 8 labelled bare heads, no helmet
    assert sum(d["label"] == "head" for d in crowd["detections"]) >= 6
    assert len(crowd["violations"]) >= 6 and all(
        v["type"] == "no_helmet" for v in crowd["violations"]
    )
    assert by["hhw-000051.jpg"]["violations"] == []  # four helmets, no bare head
    for r in recs:
        for d in r["detections"]:
            x1, y1, x2, y2 = d["box"]
            assert 0 <= x1 < x2 <= r["width"] and 0 <= y1 < y2 <= r["height"]


@pytest.mark.slow
def test_the_bundled_clip_shows_helmets_and_bare_heads(capsys):
    code, recs = run_json(capsys, sample_video_path(), extra=("--every", "25"))
    assert code == 0 and len(recs) == 12
    labels = {d["label"] for r in recs for d in r["detections"]}
    assert {"hardhat", "head", "person"} <= labels
    assert any(r["violations"] for r in recs)


def test_the_edge_capacity_variant_is_shipped_by_name(capsys, fixtures):
    """`--model siteguard-ppe-s320-int8` picks the shipped 320 px INT8 model (verified card)."""
    from siteguard.models.registry import resolve_model

    path = resolve_model("siteguard-ppe-s320-int8")
    detector = OnnxDetector(path)
    assert detector.card.precision == "int8" and detector.input_size == (320, 320)
    assert detector.card.metrics["test"]["images"] == 685
    assert (
        main(
            [
                "detect",
                "--json",
                "--model",
                "siteguard-ppe-s320-int8",
                str(fixtures / "images" / "hhw-000011.jpg"),
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out.splitlines()[0])
    assert any(d["label"] == "person" for d in out["detections"])
