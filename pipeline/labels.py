"""Box labels on evidence pictures, in the reader's language.

OpenCV's Hershey fonts have no Chinese, so labels are drawn with Pillow (FreeType) from a
font shipped with the package: ``fonts/siteguard-labels.ttf``, the glyphs the labels need
cut from WenQuanYi Micro Hei (Apache-2.0; ``fonts/LICENSE-wqy-microhei.txt``, rebuilt by
``scripts/label-font.py``). A label is rendered once per text and size and then blended
from the cache, so drawing costs a few array operations per box. Without the font, or for
a text it has no glyphs for, the label is drawn in English with OpenCV and a log line says
why (once).
"""

from __future__ import annotations

import logging
import string
import threading
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from siteguard.contract.hazards import CATALOGUE, LEVEL_ZH, HazardLevel, hazard_name
from siteguard.pipeline.taxonomy import default_taxonomy

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
LabelLang = Literal["zh", "en"]
LABEL_LANGS: tuple[LabelLang, ...] = ("zh", "en")
FONT_FILE = "siteguard-labels.ttf"
PUNCTUATION_ZH = "（）、：，。·"
_ABSENT = "\U0010fffd"  # a private-use code point no font draws: its glyph is the .notdef


def detection_text(class_name: str, score: float, lang: LabelLang = "zh") -> str:
    """``人员 0.91`` / ``person 0.91``: the taxonomy's Chinese or canonical name."""
    name = class_name
    if lang == "zh":
        name = next((c.zh for c in default_taxonomy().classes if c.name == class_name), "")
        name = name or class_name
    return f"{name} {score:.2f}"


def violation_text(hazard_type: str, level: HazardLevel, lang: LabelLang = "zh") -> str:
    """``未佩戴安全帽（一般）`` / ``no hard hat (general)``: the catalogue's names."""
    if lang == "zh":
        return f"{hazard_name(hazard_type, 'zh')}（{level.zh}）"
    return f"{hazard_name(hazard_type, 'en')} ({level.value})"


def label_characters() -> str:
    """Every character a label can hold: printable ASCII, the taxonomy's and the hazard
    catalogue's Chinese names, the levels and the punctuation around them (what the
    shipped font must cover; `scripts/label-font.py` cuts it from these)."""
    texts = [c.zh for c in default_taxonomy().classes]
    texts += [k.name_zh for k in CATALOGUE.values()]
    texts += list(LEVEL_ZH.values()) + [lv.zh for lv in HazardLevel]
    chars = set("".join(texts)) | set(PUNCTUATION_ZH)
    chars |= set(string.digits + string.ascii_letters + string.punctuation + " ")
    return "".join(sorted(chars))


def shipped_font() -> Path:
    return Path(str(resources.files("siteguard.pipeline").joinpath("fonts", FONT_FILE)))


def label_px(shape: tuple[int, ...]) -> int:
    """Text height for a picture: about a 32nd of its longer side, at least 14 px."""
    return max(14, round(max(shape[:2]) / 32))


class LabelPainter:
    """Draws boxes with labels; Chinese through the font, English with OpenCV as the
    fallback. One per font: `label_painter()` shares it between threads (rendering is
    serialised, the cache is shared)."""

    def __init__(self, font: Path | None = None) -> None:
        self.font_path = font or shipped_font()
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self.available = self._load_font()

    def _load_font(self) -> bool:
        try:
            ImageFont.truetype(str(self.font_path), 16)
        except OSError as exc:
            self._warn(
                "font",
                f"label font {self.font_path} cannot be loaded ({exc}): evidence labels "
                "are drawn in English",
            )
            return False
        return True

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message)

    def covers(self, text: str) -> bool:
        """Whether the font has a glyph for every character of ``text``."""
        return self.available and all(ch.isspace() or self._has_glyph(ch) for ch in set(text))

    def draw(
        self,
        img: Image,
        box: npt.NDArray[np.float32],
        colour: tuple[int, int, int],
        text: str,
        thick: int,
        fallback: str | None = None,
    ) -> None:
        """The box in ``colour`` and ``text`` on a filled tab above it (below it when the
        box touches the top). A text the font cannot draw is replaced by ``fallback``
        (English) drawn with OpenCV."""
        x1, y1, x2, y2 = (round(float(v)) for v in box)
        cv2.rectangle(img, (x1, y1), (x2, y2), colour, thick)
        if not self.covers(text):
            if self.available:
                self._warn(text, f"label font has no glyphs for {text!r}: drawn in English")
            _hershey_label(img, x1, y1, y2, colour, fallback if fallback is not None else text)
            return
        with self._lock:
            tab = _tab(str(self.font_path), text, label_px(img.shape), colour)
        th, tw = tab.shape[:2]
        top = y1 - th if y1 - th >= 0 else y2
        left = max(0, min(x1, img.shape[1] - tw))  # kept in the picture
        _paste(img, left, top, tab)

    def _has_glyph(self, ch: str) -> bool:
        with self._lock:
            return _has_glyph(str(self.font_path), ch)


@cache
def label_painter(font: Path | None = None) -> LabelPainter:
    """The painter of a font (the shipped one by default), made on first use."""
    return LabelPainter(font)


@lru_cache(maxsize=16)
def _font(path: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, px)


@lru_cache(maxsize=2048)
def _render(path: str, text: str, px: int) -> npt.NDArray[np.uint8]:
    """``text`` as an 8-bit coverage mask at ``px`` em size (as tall as the font's ascent
    and descent), word by word: a class name and a score are each rendered once."""
    words = text.split(" ")
    if len(words) > 1:
        font = _font(path, px)
        space = np.zeros((sum(font.getmetrics()), round(font.getlength(" "))), np.uint8)
        parts = [_render(path, w, px) for w in words]
        out = np.hstack([p for part in parts for p in (space, part)][1:])
    else:
        out = _render_word(path, text, px)
    out.setflags(write=False)
    return out


def _render_word(path: str, text: str, px: int) -> npt.NDArray[np.uint8]:
    font = _font(path, px)
    ascent, descent = font.getmetrics()
    width = max(1, round(font.getlength(text)))
    canvas = PILImage.new("L", (width, ascent + descent), 0)
    ImageDraw.Draw(canvas).text((0, 0), text, font=font, fill=255)
    return np.asarray(canvas, np.uint8).copy()


@lru_cache(maxsize=4096)
def _has_glyph(path: str, ch: str) -> bool:
    """A character is drawn by the font when its bitmap is not the .notdef's."""
    return not np.array_equal(_render(path, ch, 24), _render(path, _ABSENT, 24))


@lru_cache(maxsize=2048)
def _tab(path: str, text: str, px: int, colour: tuple[int, int, int]) -> Image:
    """The label as it is pasted: white text on an opaque ``colour`` tab with a margin
    (the same whatever is under it, so it is composed once)."""
    mask = _render(path, text, px)
    pad = max(1, mask.shape[0] // 8)
    level = np.arange(256, dtype=np.uint16)[:, None]
    shade = (np.array(colour, np.uint16) * (255 - level) + 255 * level) // 255  # per coverage
    out: Image = shade.astype(np.uint8)[np.pad(mask, pad)]
    out.setflags(write=False)
    return out


def _paste(img: Image, x: int, y: int, tab: Image) -> None:
    """``tab`` at (x, y), clipped to ``img``."""
    h, w = img.shape[:2]
    th, tw = tab.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + tw), min(h, y + th)
    if x1 > x0 and y1 > y0:
        img[y0:y1, x0:x1] = tab[y0 - y : y1 - y, x0 - x : x1 - x]


def _hershey_label(
    img: Image, x1: int, y1: int, y2: int, colour: tuple[int, int, int], text: str
) -> None:
    """The English label as OpenCV draws it (no font file needed)."""
    scale = 0.4 * max(1, round(max(img.shape[:2]) / 400))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    ty = y1 - 2 if y1 - th - base - 2 >= 0 else y2 + th + 2
    cv2.rectangle(img, (x1, ty - th - base), (x1 + tw, ty + base - 1), colour, -1)
    cv2.putText(
        img, text, (x1, ty - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
    )
