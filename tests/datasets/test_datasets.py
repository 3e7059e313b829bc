import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from siteguard.datasets.build import SourceSpec, build, merge_pseudo, training_classes
from siteguard.datasets.importers import DatasetFormatError, Sample, read_dataset
from siteguard.datasets.mapping import ClassMapping, load_mapping, shipped_mappings
from siteguard.datasets.split import split_of


def make_yolo(root: Path, names: list[str], files: dict[str, list[str]]) -> Path:
    (root / "train" / "images").mkdir(parents=True)
    (root / "train" / "labels").mkdir(parents=True)
    (root / "data.yaml").write_text(yaml.safe_dump({"nc": len(names), "names": names}))
    for name, lines in files.items():
        cv2.imwrite(str(root / "train" / "images" / f"{name}.jpg"), np.zeros((40, 60, 3), np.uint8))
        (root / "train" / "labels" / f"{name}.txt").write_text("\n".join(lines) + "\n")
    return root


def mapping(**kw) -> ClassMapping:
    base = dict(
        source="toy",
        format="yolo",
        licence="CC0",
        attribution="test",
        complete=["hardhat", "head"],
        classes={"helmet": "hardhat", "no_helmet": "head", "cone": None},
    )
    base.update(kw)
    return ClassMapping.model_validate(base)


def test_shipped_mappings_cover_the_three_shared_sets():
    assert set(shipped_mappings()) >= {
        "construction-site-safety",
        "helmet-workwear",
        "hard-hat-workers",
    }
    css = load_mapping("construction-site-safety")
    assert css.target("NO-Hardhat") == "head" and css.target("Hardhat") == "hardhat"
    assert "person" in css.complete and "person" not in load_mapping("hard-hat-workers").complete


def test_mapping_validates_targets_and_unknown_source_classes():
    with pytest.raises(ValueError, match="not in the taxonomy"):
        mapping(classes={"helmet": "helmet"})
    with pytest.raises(KeyError, match="no entry in the mapping"):
        mapping().target("glove")


def test_yolo_import_maps_classes_and_drops_unmapped(tmp_path):
    root = make_yolo(
        tmp_path / "toy",
        ["helmet", "no_helmet", "cone"],
        {
            "a": ["0 0.5 0.5 0.2 0.2", "2 0.1 0.1 0.1 0.1", "1 0.95 0.5 0.2 0.2"],
        },
    )
    [s] = list(read_dataset(root, mapping()))
    assert s.labels == ["hardhat", "head"] and s.dropped == 1
    assert s.boxes[0] == pytest.approx((0.4, 0.4, 0.6, 0.6))
    assert s.boxes[1][2] == 1.0  # clipped to the image


def test_malformed_label_line_names_the_file(tmp_path):
    root = make_yolo(tmp_path / "toy", ["helmet"], {"a": ["0 0.5 oops"]})
    with pytest.raises(DatasetFormatError, match=r"a.txt:1"):
        list(read_dataset(root, mapping(classes={"helmet": "hardhat"})))


def test_voc_and_coco_importers(tmp_path):
    voc = tmp_path / "voc"
    (voc / "Annotations").mkdir(parents=True)
    (voc / "Annotations" / "x.xml").write_text(
        "<annotation><filename>x.jpg</filename><size><width>100</width><height>50</height></size>"
        "<object><name>hat</name><bndbox><xmin>10</xmin><ymin>5</ymin><xmax>30</xmax><ymax>25</ymax></bndbox></object>"
        "<object><name>person</name><bndbox><xmin>0</xmin><ymin>0</ymin><xmax>50</xmax><ymax>50</ymax></bndbox></object>"
        "</annotation>"
    )
    m = mapping(format="voc", classes={"hat": "hardhat", "person": None})
    [s] = list(read_dataset(voc, m))
    assert (
        s.labels == ["hardhat"]
        and s.boxes[0] == pytest.approx((0.1, 0.1, 0.3, 0.5))
        and s.dropped == 1
    )
    coco = tmp_path / "coco"
    coco.mkdir()
    (coco / "ann.json").write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": "y.jpg", "width": 200, "height": 100}],
                "categories": [{"id": 7, "name": "head"}],
                "annotations": [{"image_id": 1, "category_id": 7, "bbox": [20, 10, 40, 20]}],
            }
        )
    )
    [s] = list(read_dataset(coco, mapping(format="coco", classes={"head": "head"})))
    assert s.labels == ["head"] and s.boxes[0] == pytest.approx((0.1, 0.1, 0.3, 0.3))


def test_roboflow_copies_of_one_source_image_share_a_group():
    a = Sample("s", Path("img001_jpg.rf.abc123.jpg"))
    b = Sample("s", Path("img001_jpg.rf.ffff00.jpg"))
    assert a.group == b.group == "s/img001"


def test_split_is_deterministic_seeded_and_roughly_proportional():
    groups = [f"s/{i}" for i in range(4000)]
    splits = [split_of(g, seed=0) for g in groups]
    assert splits == [split_of(g, seed=0) for g in groups]
    assert splits != [split_of(g, seed=1) for g in groups]
    frac = {k: splits.count(k) / len(splits) for k in ("train", "val", "test")}
    assert frac["test"] == pytest.approx(0.15, abs=0.02) and frac["val"] == pytest.approx(
        0.10, abs=0.02
    )


def test_build_splits_by_source_image_and_writes_a_manifest(tmp_path):
    files = {
        f"img{i:03d}_jpg.rf.{k}": ["0 0.5 0.5 0.2 0.2"] for i in range(40) for k in ("aa", "bb")
    }
    root = make_yolo(tmp_path / "toy", ["helmet", "no_helmet", "cone"], files)
    out = tmp_path / "built"
    spec = SourceSpec(root, mapping())
    rep = build([spec], out, seed=3)
    manifest = json.loads((out / "manifest.json").read_text())
    where = {}
    for row in manifest["files"]:
        group = row["origin"].split(".rf.")[0]
        where.setdefault(group, set()).add(row["split"])
    assert all(len(s) == 1 for s in where.values()), "a source image straddles splits"
    assert len(manifest["files"]) == 80 and manifest["sha256"] == rep.manifest_sha256
    assert manifest["sources"][0]["licence"] == "CC0"
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"] == {0: "hardhat", 1: "head"}
    labels = next((out / "labels" / "train").glob("*.txt")).read_text().split()
    assert labels[0] == "0"
    rep2 = build([spec], tmp_path / "again", seed=3)
    assert rep2.manifest_sha256 == rep.manifest_sha256
    assert "hardhat" in rep.table()


def test_partial_person_labels_are_warned_about_or_pseudo_labelled(tmp_path):
    root = make_yolo(
        tmp_path / "toy", ["helmet", "person"], {"a": ["0 0.5 0.2 0.1 0.1", "1 0.2 0.5 0.2 0.8"]}
    )
    m = mapping(classes={"helmet": "hardhat", "person": "person"})
    assert training_classes([SourceSpec(root, m)]) == ["person", "hardhat"]
    rep = build([SourceSpec(root, m)], tmp_path / "o1")
    assert any("learnt as background" in w for w in rep.warnings)
    img = str(root / "train" / "images" / "a.jpg")
    pseudo = {
        img: [(0.1, 0.1, 0.3, 0.9), (0.6, 0.1, 0.9, 0.9)]
    }  # first duplicates the labelled person
    rep = build([SourceSpec(root, m)], tmp_path / "o2", pseudo_person=pseudo)
    assert not rep.warnings and rep.pseudo_added["toy"] == 1


def test_merge_pseudo_skips_boxes_already_labelled():
    s = Sample("s", Path("x.jpg"), labels=["person"], boxes=[(0.1, 0.1, 0.3, 0.9)])
    assert merge_pseudo(s, [(0.11, 0.1, 0.31, 0.9), (0.5, 0.5, 0.6, 0.9)]) == 1
    assert s.labels == ["person", "person"]


def test_dataset_cli_stats_and_build(tmp_path, capsys):
    from siteguard.cli import main

    root = make_yolo(
        tmp_path / "toy",
        ["helmet", "no_helmet", "cone"],
        {"a": ["0 0.5 0.5 0.2 0.2", "2 0.1 0.1 0.1 0.1"]},
    )
    mfile = tmp_path / "toy.yaml"
    mfile.write_text(yaml.safe_dump(mapping().model_dump()))
    assert main(["dataset", "stats", f"{root}={mfile}"]) == 0
    out = capsys.readouterr().out
    assert "toy: 1 images; hardhat 1; 1 boxes of unmapped classes dropped" in out
    assert (
        main(
            [
                "dataset",
                "build",
                f"{root}={mfile}",
                "--out",
                str(tmp_path / "b"),
                "--max-side",
                "32",
            ]
        )
        == 0
    )
    img = cv2.imread(str(next((tmp_path / "b" / "images").rglob("*.jpg"))))
    assert max(img.shape[:2]) == 32
    with pytest.raises(SystemExit):
        main(["dataset", "stats", str(tmp_path / "nope")])
