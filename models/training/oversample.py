"""Oversampling a training split by source (and class) without rebuilding the dataset.

`siteguard dataset build` names each image ``<source>__<stem>.jpg`` and writes ultralytics
labels beside it. A stage that should see the weak sources more often lists the training
images in a text file, each as many times as its factor, and points a copy of data.yaml at
that list; the images, labels, manifest and the validation and test splits are unchanged.
No torch needed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml


def factor_of(source: str, classes: set[str], rules: dict[str, int]) -> int:
    """How many times an image of ``source`` holding boxes of ``classes`` is listed."""
    factor = 1
    for key, n in rules.items():
        src, _, cls = key.partition("/")
        if src == source and (not cls or cls in classes):
            factor = max(factor, n)
    return factor


def oversampled_data(data_yaml: Path, rules: dict[str, int], out_dir: Path) -> tuple[Path, str]:
    """Write ``train.txt`` and ``data.yaml`` under ``out_dir`` for ``rules``; return the new
    data.yaml and a one-line summary (images listed per source)."""
    data = yaml.safe_load(Path(data_yaml).read_text("utf-8"))
    root = Path(data["path"])
    names = data["names"]
    names = names if isinstance(names, list) else [names[k] for k in sorted(names)]
    sources_known = set()
    train_dir = root / data["train"]
    listed: Counter[str] = Counter()
    lines = []
    for image in sorted(train_dir.glob("*.jpg")):
        source = image.name.split("__", 1)[0]
        sources_known.add(source)
        label = root / "labels" / "train" / (image.stem + ".txt")
        text = label.read_text("utf-8") if label.exists() else ""
        classes = {names[int(row.split()[0])] for row in text.splitlines() if row.strip()}
        n = factor_of(source, classes, rules)
        lines += [str(image.resolve())] * n
        listed[source] += n
    unknown = {k.partition("/")[0] for k in rules} - sources_known
    if unknown:
        raise ValueError(
            f"oversample names sources not in {train_dir}: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(sources_known))})"
        )
    unknown_classes = {k.partition("/")[2] for k in rules if "/" in k} - set(names)
    if unknown_classes:
        raise ValueError(f"oversample names classes not in {data_yaml}: {sorted(unknown_classes)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "train.txt").write_text("\n".join(lines) + "\n", "utf-8")
    new = dict(data, train=str((out_dir / "train.txt").resolve()))
    new["val"] = str((root / data["val"]).resolve())
    new["test"] = str((root / data["test"]).resolve())
    new_yaml = out_dir / "data.yaml"
    new_yaml.write_text(yaml.safe_dump(new, sort_keys=False, allow_unicode=True), "utf-8")
    summary = ", ".join(f"{s} {listed[s]}" for s in sorted(listed))
    return new_yaml, f"oversampled training list: {len(lines)} entries ({summary})"
