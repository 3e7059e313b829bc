"""The `siteguard detect` contract (acceptance tests depend on it exactly)."""

import json

import cv2
import numpy as np
import pytest

from siteguard.cli import main
from siteguard.pipeline.decode import OutputKind
from tests.support.onnx_factory import make_model, raw_prediction


@pytest.fixture
def model(tmp_path):
    # 64x64 input: a person, a bare head on it and a hardhat elsewhere
    pred = raw_prediction(
        [(20, 36, 16, 40), (20, 20, 8, 8), (50, 20, 8, 8)],
        [[0.9, 0.0, 0.0], [0.0, 0.8, 0.0], [0.0, 0.0, 0.3]],
    )
    return make_model(
        tmp_path / "m" / "tiny.onnx", pred, OutputKind.RAW, ["person", "head", "hardhat"]
    )


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    cv2.imwrite(str(folder / "a.jpg"), np.full((128, 128, 3), 90, np.uint8))
    cv2.imwrite(str(folder / "sub" / "b.png"), np.full((64, 128, 3), 90, np.uint8))
    return folder


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lines_follow_the_contract(capsys, model, images):
    path = str(images / "a.jpg")
    code, out, _ = run(capsys, "detect", "--model", str(model), "--json", path)
    assert code == 0
    [line] = out.splitlines()
    rec = json.loads(line)
    assert list(rec) == ["source", "width", "height", "detections", "violations"]
    assert rec["source"] == path and (rec["width"], rec["height"]) == (128, 128)
    labels = {d["label"]: d for d in rec["detections"]}
    assert set(labels) == {"person", "head", "hardhat"}
    assert labels["head"]["box"] == [32.0, 32.0, 48.0, 48.0]  # 2x the model-input box
    assert labels["head"]["score"] == pytest.approx(0.8)
    [v] = rec["violations"]
    assert set(v) == {"type", "level", "box", "reason"}
    assert (
        v["type"] == "no_helmet"
        and v["level"] == "general"
        and v["box"] == [32.0, 32.0, 48.0, 48.0]
    )


def test_conf_is_the_printed_threshold(capsys, model, images):
    _, out, _ = run(
        capsys, "detect", "--model", str(model), "--json", "--conf", "0.85", str(images / "a.jpg")
    )
    assert [d["label"] for d in json.loads(out)["detections"]] == ["person"]
    assert json.loads(out)["violations"] == []
    _, out, _ = run(
        capsys, "detect", "--model", str(model), "--json", "--conf", "0.2", str(images / "a.jpg")
    )
    assert len(json.loads(out)["detections"]) == 3


def test_default_threshold_is_the_cards_operating_threshold(capsys, model, images):
    _, out, _ = run(capsys, "detect", "--model", str(model), "--json", str(images / "a.jpg"))
    assert {d["label"] for d in json.loads(out)["detections"]} == {
        "person",
        "head",
        "hardhat",
    }  # card conf 0.25


def test_folder_gives_one_line_per_image_recursively(capsys, model, images):
    code, out, _ = run(capsys, "detect", "--model", str(model), "--json", str(images))
    recs = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["source"] for r in recs] == [str(images / "a.jpg"), str(images / "sub" / "b.png")]
    assert (recs[1]["width"], recs[1]["height"]) == (128, 64)


def test_video_gives_one_line_per_frame(capsys, model, tmp_path):
    video = tmp_path / "clip.mp4"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"mp4v"), 10, (96, 64))
    for i in range(6):
        w.write(np.full((64, 96, 3), 40 * i, np.uint8))
    w.release()
    code, out, _ = run(capsys, "detect", "--model", str(model), "--json", str(video))
    recs = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(recs) == 6
    assert [r["frame"] for r in recs] == list(range(6))
    assert all(r["source"] == str(video) and r["width"] == 96 for r in recs)
    _, out, _ = run(capsys, "detect", "--model", str(model), "--json", "--every", "3", str(video))
    assert [json.loads(line)["frame"] for line in out.splitlines()] == [0, 3]


def test_unreadable_files_are_reported_and_the_rest_still_run(capsys, model, images, tmp_path):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    missing = tmp_path / "missing.jpg"
    code, out, err = run(
        capsys,
        "detect",
        "--model",
        str(model),
        "--json",
        str(corrupt),
        str(images / "a.jpg"),
        str(missing),
    )
    assert code == 1
    assert len(out.splitlines()) == 1 and json.loads(out)["source"] == str(images / "a.jpg")
    assert f"{corrupt}: not a readable image" in err
    assert f"{missing}: no such file" in err


def test_summary_and_annotated_output(capsys, model, images, tmp_path):
    out_dir = tmp_path / "annotated"
    code, out, _ = run(capsys, "detect", "--model", str(model), "--out", str(out_dir), str(images))
    assert code == 0
    assert "1 violation(s): no_helmet [general]" in out
    assert "2 image(s)/frame(s)" in out
    written = sorted(p.name for p in out_dir.iterdir())
    assert written == ["a.jpg", "b.jpg"]
    annotated = cv2.imread(str(next(out_dir.iterdir())))
    assert annotated is not None and (annotated != 90).any()  # boxes were drawn


def test_a_broken_model_is_a_clear_error(capsys, tmp_path, images):
    code, _, err = run(capsys, "detect", "--model", str(tmp_path / "nope.onnx"), str(images))
    assert code == 2 and "no model card" in err


def test_bad_arguments_are_refused(capsys, model, images):
    code, _, err = run(capsys, "detect", "--model", str(model), "--conf", "3", str(images))
    assert code == 2 and "--conf" in err


def test_annotated_names_are_the_input_names_deduplicated(capsys, model, tmp_path):
    for d in ("x", "y"):
        (tmp_path / d).mkdir()
        cv2.imwrite(str(tmp_path / d / "same.jpg"), np.full((64, 64, 3), 90, np.uint8))
    out_dir = tmp_path / "annotated"
    args = [
        "detect",
        "--model",
        str(model),
        "--out",
        str(out_dir),
        str(tmp_path / "x"),
        str(tmp_path / "y"),
    ]
    assert main(args) == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["same-2.jpg", "same.jpg"]


def test_annotated_pictures_are_coarse_outside_what_was_found(capsys, model, tmp_path):
    """`--out` pictures get the stored evidence's privacy: outside the detections the
    picture is pixelated (2 px blocks on a 640 px picture: `PrivacyConfig.scene_blocks`),
    so a corner of pure noise comes out in even pairs of pixels; `--no-blur` keeps it."""
    src = tmp_path / "noise"
    src.mkdir()
    noise = np.random.default_rng(0).integers(0, 255, (640, 640, 3), dtype=np.uint8)
    cv2.imwrite(str(src / "n.png"), noise)

    def corner_unevenness(out_dir):
        code, _out, _err = run(
            capsys, "detect", "--model", str(model), "--out", str(out_dir), *flags, str(src)
        )
        assert code == 0
        corner = cv2.imread(str(out_dir / "n.jpg")).astype(int)[0:40, 580:640]
        return np.abs(corner[0::2, 0::2] - corner[1::2, 1::2]).mean()  # within 2x2 blocks

    flags = ()
    coarse = corner_unevenness(tmp_path / "private")
    flags = ("--no-blur",)
    clear = corner_unevenness(tmp_path / "clear")
    assert clear > 40 > 20 > coarse, (clear, coarse)  # JPEG evens noise out a little
