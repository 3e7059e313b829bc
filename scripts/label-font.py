"""Cut the evidence-label font, pipeline/fonts/siteguard-labels.ttf, from WenQuanYi Micro
Hei: only the glyphs `siteguard.pipeline.labels.label_characters()` lists (printable
ASCII, the taxonomy's and the hazard catalogue's Chinese names, levels, punctuation).

Run it after adding a class or a hazard type with new characters (the tests fail until the
font covers every label):

    .venv-train/bin/python scripts/label-font.py [--source FONT.ttc]

(default source: /usr/share/fonts/truetype/wqy/wqy-microhei.ttc, Debian's package).

The source is Debian's fonts-wqy-microhei 0.2.0-beta (Apache-2.0 or GPL-3.0-or-later with
the font exception; the subset is used under Apache-2.0, see
pipeline/fonts/LICENSE-wqy-microhei.txt).
Needs fontTools (in the training environment).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset  # type: ignore[import-not-found]
from fontTools.ttLib import TTFont  # type: ignore[import-not-found]

from siteguard.pipeline.labels import FONT_FILE, label_characters

REPO = Path(__file__).resolve().parents[1]
SOURCE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=SOURCE)
    ap.add_argument("--out", type=Path, default=REPO / "pipeline" / "fonts" / FONT_FILE)
    args = ap.parse_args()
    font = TTFont(str(args.source), fontNumber=0)  # WenQuanYi Micro Hei (not Mono)
    options = subset.Options()
    options.name_IDs = ["*"]  # keep the copyright, licence and font names
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False  # rendered small and antialiased: hints only add bytes
    options.layout_features = []
    sub = subset.Subsetter(options)
    chars = label_characters()
    sub.populate(text=chars)
    sub.subset(font)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(args.out))
    print(f"{args.out}: {len(chars)} characters, {args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
