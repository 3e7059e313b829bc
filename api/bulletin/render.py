"""The monthly bulletin as a page: the document's body (header block with 文号, authority
and date; key figures with 环比; six-month trend; level-coloured charts; the project
tables) is one template, `bulletin_body.html`, shown alone (`/regulator/bulletin.html`)
and inside the console. The PDF is `api/bulletin/printed.py`."""

from __future__ import annotations

from typing import Any

from siteguard.api.bulletin.changes import KPI_BY_KEY, TREND_KEYS
from siteguard.api.bulletin.printed import bulletin_pdf
from siteguard.api.bulletin.words import (
    ASSESSMENT_COLOURS,
    LEVEL_COLOURS,
    change_text,
    figure_text,
    header,
    month_text,
    words,
)
from siteguard.api.documents.charts import stacked_bar_chart, trend_chart
from siteguard.api.documents.html import templates
from siteguard.contract.hazards import hazard_name

__all__ = ["bulletin_context", "bulletin_html", "bulletin_pdf"]
FACTOR_COLOUR = "#475569"  # one colour: a bar's length is the factor, its colour means nothing


def kpi_cards(b: dict[str, Any], lang: str) -> list[dict[str, str]]:
    w = words(lang)
    cards = []
    for c in b["changes"]:
        cards.append(
            {
                "key": c["key"],
                "label": w(c["key"]),
                "value": figure_text(c["key"], c["value"]),
                "previous": figure_text(c["key"], c["previous"]),
                "change": change_text(c, lang),
                "assessment": c["assessment"],
                "assessment_text": w(c["assessment"]),
                "colour": ASSESSMENT_COLOURS[c["assessment"]],
            }
        )
    return cards


def charts(b: dict[str, Any], lang: str) -> dict[str, Any]:
    w = words(lang)
    by_type = {hazard_name(k, lang): v for k, v in b["hazards_by_type_level"].items()}
    levels = b["hazards_by_level"]
    months = b["trend"]["months"]
    trends = []
    for key in TREND_KEYS:
        unit = KPI_BY_KEY[key].unit
        points = [
            (month_text(m, lang, short=True), round(v) if unit == "hours" and v else v)
            for m, v in zip(months, b["trend"]["series"][key], strict=True)
        ]
        colour = LEVEL_COLOURS["major"] if key == "major_hazards" else "#1d4ed8"
        rate = unit == "rate"
        trends.append(
            {
                "key": key,
                "svg": trend_chart(
                    points, w(key), colour=colour, percent=rate, width=260, height=120
                ),
            }
        )
    return {
        "by_type": stacked_bar_chart(by_type, LEVEL_COLOURS, None, w("by_type")),
        "by_level": stacked_bar_chart(
            {w("general"): {"general": levels["general"]}, w("major"): {"major": levels["major"]}},
            LEVEL_COLOURS,
            None,
            w("by_level"),
        ),
        "factors": stacked_bar_chart(
            {r["name"][:12]: {"factor": r["factor"]} for r in b["top_risk"]},
            {"factor": FACTOR_COLOUR},
            None,
            w("factors"),
            decimals=3,
        ),
        "trends": trends,
    }


def bulletin_context(b: dict[str, Any], lang: str = "zh", band_percent: int = 20) -> dict[str, Any]:
    """What `bulletin_body.html` reads (the console passes it on with its own context)."""
    return {
        "b": b,
        "w": words(lang),
        "blang": lang,
        "head": header(b, lang),
        "cards": kpi_cards(b, lang),
        "charts": charts(b, lang),
        "reasons_key": "reasons_zh" if lang == "zh" else "reasons",
        "band": band_percent,
        "level_colours": LEVEL_COLOURS,
    }


def bulletin_html(b: dict[str, Any], band_percent: int = 20, lang: str = "zh") -> str:
    html: str = (
        templates()
        .get_template("bulletin.html")
        .render(**bulletin_context(b, lang, band_percent), lang=lang)
    )
    return html
