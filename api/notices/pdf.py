"""The rectification notice as a PDF (A4, Chinese), from the same view as the HTML page:
as issued (empty boxes to sign by hand), and once replied to or re-inspected with each
item's reply and proof photos, the re-inspection's result and the final state."""

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
from siteguard.api.notices.document import notice_lines

EvidenceFetch = Callable[[str], bytes | None]
GRID = [
    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
]
THUMB = 32 * mm  # a proof photo's box in the reply table
THUMBS_PER_ROW = 4


def _picture(data: bytes | None, width: float, height: float | None = None) -> Image | None:
    """The picture fitted into width x height (height: by its aspect), None if unreadable."""
    if data is None:
        return None
    try:
        w, h = ImageReader(io.BytesIO(data)).getSize()
    except Exception:  # not an image reportlab can read
        return None
    width = min(width, w)
    scale = min(width / w, (height or width * h / w) / h)
    return Image(io.BytesIO(data), width=w * scale, height=h * scale)


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
        picture = _picture(data, 120 * mm)
        if picture is None:
            why = "暂未能获取图片" if data is None else "图片无法读取"
            out += [caption, Paragraph(esc(f"证据：{uri}（{why}）"), st["base"])]
            continue
        out += [caption, picture, Spacer(1, 3 * mm)]
    return out


def _proof_strip(paths: list[str], proof: EvidenceFetch, st: dict[str, ParagraphStyle]) -> Any:
    """The reply's proof photos, four to a row (one that cannot be read is named)."""
    cells: list[Any] = []
    for path in paths:
        picture = _picture(proof(path), THUMB, THUMB)
        cells.append(picture or Paragraph(esc(f"（照片缺失：{path}）"), st["base"]))
    if not cells:
        return Spacer(1, 0)
    rows = [cells[i : i + THUMBS_PER_ROW] for i in range(0, len(cells), THUMBS_PER_ROW)]
    rows[-1] += [""] * (THUMBS_PER_ROW - len(rows[-1]))
    return Table(rows, colWidths=[THUMB + 2 * mm] * THUMBS_PER_ROW, hAlign="LEFT")


def _replies(
    n: dict[str, Any], lines: dict[str, Any], proof: EvidenceFetch, st: dict[str, ParagraphStyle]
) -> Table:
    """One row per item: its state and its latest reply with the proof photos."""
    P = lambda text: Paragraph(esc(text), st["base"])  # noqa: E731
    rows: list[list[Any]] = [
        [P(h) for h in ("序号", "隐患", "状态", "整改回复（回复人、时间）及佐证照片")]
    ]
    for it in n["items"]:
        own = lines["items"][it["no"]]
        cell: list[Flowable] = []
        if it["replies"]:
            r = it["replies"][-1]
            via = "（统一回复）" if r["via"] == "notice" else ""
            cell += [P(f"{r['text']}{via}（{r['actor']}，{r['at_local']}）")]
            cell += [_proof_strip(r["attachments"], proof, st)]
            if len(it["replies"]) > 1:
                cell += [P(f"共回复 {len(it['replies'])} 次，以上为最后一次。")]
        elif own["dismissed"]:
            cell += [P(f"误报：{own['dismissed']}")]
        else:
            cell += [P("（未回复）")]
        rows.append([P(it["no"]), P(it["title"]), P(own["status"]), cell])
    return Table(
        rows,
        colWidths=[10 * mm, 36 * mm, 18 * mm, 116 * mm],
        repeatRows=1,
        style=TableStyle([*GRID, ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))]),
    )


def notice_pdf(
    n: dict[str, Any], fetch: EvidenceFetch | None = None, proof: EvidenceFetch | None = None
) -> bytes:
    """The notice as a PDF (``n``: `views.notice_detail`); `fetch` gets each item's evidence
    picture (none: URIs only), `proof` a stored proof photo by its stored name."""
    st = pdf_styles()
    p = n["project"]
    lines = notice_lines(n)
    P = lambda text, style="base": Paragraph(esc(text), st[style])  # noqa: E731
    grid = TableStyle(
        [
            *GRID,
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
        left = lines["items"][it["no"]]["countdown"]
        rows.append(
            [
                P(it["no"]),
                P(f"{it['title']}（{it['location']}，{it['found_at']}）"),
                P(it["level_zh"], level),
                P(f"{it['measure']} 依据：{it['standards']}"),
                P(it["responsible"]),
                P(f"{it['deadline_local']} 前" + (f"（{left}）" if left else ""), level),
            ]
        )
    items = Table(
        rows,
        colWidths=[10 * mm, 36 * mm, 19 * mm, 69 * mm, 24 * mm, 22 * mm],
        repeatRows=1,
        style=TableStyle([*GRID, ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))]),
    )
    replied = lines["replied"]
    sign = Table(
        [
            [P("签发人"), P(n["issuer"]), P("施工单位签收"), P(lines["signed"])],
            [
                P("整改回复"),
                P(f"已逐项回复 {replied}/{len(n['items'])} 项，见下表" if replied else ""),
                "",
                "",
            ],
            [P("复查意见"), P(lines["check"]), "", ""],
            [P("最终状态"), P(lines["final"]), "", ""],
        ],
        colWidths=[28 * mm, 62 * mm, 28 * mm, 62 * mm],
        rowHeights=[
            14 * mm,
            None if replied else 20 * mm,
            None if lines["check"] else 20 * mm,
            None,
        ],
        style=TableStyle(
            [
                *GRID,
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")),
                ("BACKGROUND", (2, 0), (2, 0), colors.HexColor("#eeeeee")),
                ("SPAN", (1, 1), (3, 1)),
                ("SPAN", (1, 2), (3, 2)),
                ("SPAN", (1, 3), (3, 3)),
            ]
        ),
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
    if replied or lines["check"]:
        story += [
            P("整改回复及佐证照片（逐项）", "h2"),
            _replies(n, lines, proof or (lambda _path: None), st),
        ]
    photos = _evidence(n, fetch or (lambda _uri: None), st)
    if photos:
        story += [P("证据照片（人脸已模糊处理）", "h2"), *photos]
    return a4_pdf(story, f"安全隐患整改通知单 {n['number']}")
