"""The rectification notice as a PDF (A4, Chinese), from the same view as the HTML page."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from siteguard.api.documents.pdf import a4_pdf, esc, pdf_styles

EvidenceFetch = Callable[[str], bytes | None]


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
