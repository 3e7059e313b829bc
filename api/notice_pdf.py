"""The rectification notice as a PDF (A4, Chinese), from the same view as the HTML page.

The glyphs are embedded (subset) from a TrueType CJK font on the server when there is one
(Debian's fonts-wqy-microhei, installed by scripts/system-deps.sh and the Dockerfile), so
the PDF reads the same everywhere. Without one, reportlab's Adobe CID font STSong-Light
is used and the reader must supply the glyphs (Acrobat and browsers do; poppler needs
poppler-data).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
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


EvidenceFetch = Callable[[str], bytes | None]


def fetch_evidence(uri: str, timeout_s: float = 3.0) -> bytes | None:
    """The evidence (picture or clip) behind a URI served by the edge box, or None if it
    cannot be had now: the notice is printed anyway, naming the URI."""
    if not uri.startswith(("http://", "https://")):
        return None
    try:
        r = httpx.get(uri, timeout=timeout_s)
    except httpx.HTTPError:
        return None
    return r.content if r.status_code == 200 and r.content else None


def _evidence(
    n: dict[str, Any], fetch: EvidenceFetch, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    out: list[Flowable] = []
    for it in n["items"]:
        uri = it.get("evidence_uri")
        if not uri:
            continue
        data = fetch(uri)
        caption = Paragraph(esc(f"第 {it['no']} 项 {it['title']}（{it['found_at']}）"), st["base"])
        if data is None:
            out += [caption, Paragraph(esc(f"证据：{uri}（暂未能获取图片）"), st["base"])]
            continue
        try:
            reader = ImageReader(io.BytesIO(data))
            w, h = reader.getSize()
        except Exception:  # not an image reportlab can read: name it instead
            out += [caption, Paragraph(esc(f"证据：{uri}（图片无法读取）"), st["base"])]
            continue
        width = min(120 * mm, w)
        out += [
            caption,
            Image(io.BytesIO(data), width=width, height=width * h / w),
            Spacer(1, 3 * mm),
        ]
    return out


def notice_pdf(n: dict[str, Any], fetch: EvidenceFetch | None = None) -> bytes:
    """The notice as a PDF; `fetch` gets each item's evidence picture (none: URIs only)."""
    st = pdf_styles()
    p = n["project"]
    P = lambda text, style="base": Paragraph(esc(text), st[style])  # noqa: E731
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")),
            ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#eeeeee")),
        ]
    )
    head = Table(
        [
            [P("工程名称"), P(p["name"]), P("工程地址"), P(p["address"])],
            [P("施工许可/备案号"), P(p["permit_no"]), P("安责险保单号"), P(p["policy_no"])],
            [P("施工单位"), P(p["contractor"]), P("保险机构"), P(p["insurer"])],
            [
                P("项目负责人"),
                P(f"{p['responsible_person']} {p['responsible_phone']}"),
                P("属地监管"),
                P(p["jurisdiction"]),
            ],
        ],
        colWidths=[28 * mm, 62 * mm, 28 * mm, 62 * mm],
        style=grid,
    )
    rows = [
        [
            P(h)
            for h in ("序号", "隐患（位置/时间）", "等级", "整改措施（依据）", "责任人", "整改时限")
        ]
    ]
    for it in n["items"]:
        level = "major" if it["level"] == "major" else "base"
        rows.append(
            [
                P(it["no"]),
                P(f"{it['title']}（{it['location']}，{it['found_at']}）"),
                P(it["level_zh"], level),
                P(f"{it['measure']} 依据：{it['standards']}"),
                P(it["responsible"]),
                P(f"{it['deadline_local']} 前", level),
            ]
        )
    items = Table(
        rows,
        colWidths=[10 * mm, 36 * mm, 19 * mm, 69 * mm, 24 * mm, 22 * mm],
        repeatRows=1,
        style=TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ]
        ),
    )
    sign = Table(
        [
            [P("签发人"), P(n["issuer"]), P("施工单位签收"), P("")],
            [P("整改回复"), P(""), P("复查意见"), P("")],
        ],
        colWidths=[28 * mm, 62 * mm, 28 * mm, 62 * mm],
        rowHeights=[14 * mm, 20 * mm],
        style=grid,
    )
    story: list[Flowable] = [
        P("安全隐患整改通知单", "title"),
        Spacer(1, 4 * mm),
        P(f"编号：{n['number']}　　签发日期：{n['issued_at_local']}"),
        Spacer(1, 3 * mm),
        head,
        Spacer(1, 3 * mm),
        P(
            "经智能视频监测及事故预防服务检查，你单位施工现场存在下列安全隐患，请按整改措施和时限完成整改，"
            "并上传整改回复及佐证照片。"
        ),
        P("问题清单、责任人清单及整改时限清单", "h2"),
        items,
        Spacer(1, 5 * mm),
        sign,
    ]
    photos = _evidence(n, fetch or (lambda _uri: None), st)
    if photos:
        story += [P("证据照片（人脸已模糊处理）", "h2"), *photos]
    return a4_pdf(story, f"安全隐患整改通知单 {n['number']}")


def a4_pdf(story: list[Flowable], title: str) -> bytes:
    """Build an A4 document with SiteGuard's 15 mm margins."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author="SiteGuard",
    )
    doc.build(story)
    return buf.getvalue()
