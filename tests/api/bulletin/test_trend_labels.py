"""The PDF's trend charts label every month that has a figure with that month's figure
(reportlab numbers the labels of the points it draws: a month without a figure before the
others once shifted every label onto its neighbour and left the last one blank)."""

import re

from reportlab.graphics import renderSVG

from siteguard.api.bulletin.printed import _trend
from siteguard.api.documents.pdf import cjk_font

MONTHS = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]


def labels(values, rate):
    svg = renderSVG.drawToString(_trend("x", MONTHS, values, rate, cjk_font(), False))
    texts = re.findall(r">([^<]+)<", svg)
    return texts


def test_rates_with_missing_months_are_labelled_in_place():
    texts = labels([None, 0.5, None, 1.0, 0.9, 0.8], rate=True)
    assert [t for t in texts if t in ("50%", "100%", "90%", "80%")][-4:] == [
        "50%",
        "100%",
        "90%",
        "80%",
    ]


def test_a_single_figure_is_written_not_drawn():
    texts = labels([None, None, None, None, None, 7], rate=False)
    assert "7" in texts
