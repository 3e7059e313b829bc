"""A4 PDFs with Chinese text (notices, bulletins).

The glyphs are embedded (subset) from a TrueType CJK font on the server when there is one
(Debian's fonts-wqy-microhei, installed by scripts/system-deps.sh and the Dockerfile), so
the PDF reads the same everywhere. Without one, reportlab's Adobe CID font STSong-Light
is used and the reader must supply the glyphs (Acrobat and browsers do; poppler needs
poppler-data).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import SimpleDocTemplate
from reportlab.platypus.flowables import Flowable

TTF_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
CID_FONT = "STSong-Light"


def cjk_font() -> str:
    """Register and name the font for Chinese text: embedded TrueType if available."""
    for path in TTF_CANDIDATES:
        if path.exists():
            if "SiteGuardCJK" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("SiteGuardCJK", str(path), subfontIndex=0))
            return "SiteGuardCJK"
    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


def pdf_styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=cjk_font(), fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=TA_CENTER),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=16, spaceBefore=6),
        "major": ParagraphStyle("major", parent=base, textColor=colors.HexColor("#b00000")),
    }


def esc(v: Any) -> str:
    return str(v or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def a4_pdf(
    story: list[Flowable],
    title: str,
    author: str = "SiteGuard",
    subject: str = "",
    bottom_mm: float = 15,
    canvasmaker: Any = None,
) -> bytes:
    """Build an A4 document with SiteGuard's 15 mm margins (``bottom_mm``: room for a
    footer; ``canvasmaker``: one that draws it, e.g. page numbers)."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=bottom_mm * mm,
        title=title,
        author=author,
        subject=subject,
    )
    if canvasmaker is None:
        doc.build(story)
    else:
        doc.build(story, canvasmaker=canvasmaker)
    return buf.getvalue()
