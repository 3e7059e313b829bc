"""The SVG line chart's x labels never overlap, whatever the number of points and the
width: labels that would collide are left out (the point keeps its tooltip), the newest
is always shown."""

import itertools
import re

from siteguard.api.documents.charts import line_chart, text_width

MONTHS = ["7月末", "8月末", "9月末", "10月末", "11月末", "12月2日"]


def labels(svg: str) -> list[tuple[float, str, str]]:
    """(x, anchor, text) of each x label (the texts on the bottom line)."""
    bottom = max(float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)"', svg))
    return [
        (float(x), anchor, text)
        for x, y, anchor, text in re.findall(
            r'<text x="([\d.]+)" y="([\d.]+)" font-size="\d+" text-anchor="(\w+)">([^<]*)</text>',
            svg,
        )
        if float(y) == bottom
    ]


def spans(found, font=12):
    out = []
    for x, anchor, text in found:
        w = text_width(text, font)
        out.append(
            (x, x + w)
            if anchor == "start"
            else (x - w, x)
            if anchor == "end"
            else (x - w / 2, x + w / 2)
        )
    return out


def test_labels_on_a_phone_wide_chart_do_not_overlap_and_the_newest_is_shown():
    points = list(zip(MONTHS, [0.99, None, 1.0, 0.99, 1.01, 1.008], strict=True))
    svg = str(line_chart(points, width=360, height=150))
    found = labels(svg)
    assert found[-1][2] == "12月2日"  # the newest value's label
    assert found[0][2] == "7月末"
    assert len(found) < len(MONTHS)  # 11月末 would touch 12月2日 at this width
    edges = spans(found)
    assert all(b[0] - a[1] >= 4 for a, b in itertools.pairwise(edges)), edges
    assert svg.count('class="point"') == 5  # every value keeps its point


def test_a_wide_chart_shows_every_label():
    points = [(m, 1.0) for m in MONTHS]
    found = labels(str(line_chart(points, width=900)))
    assert [t for _x, _a, t in found] == MONTHS


def test_bar_labels_get_the_room_they_need():
    """A long English hazard name is not cut at the chart's left edge: the bars start
    after the widest label (the label ends 6 px before them, right-aligned)."""
    import re

    from siteguard.api.documents.charts import bar_chart, stacked_bar_chart, text_width

    label = "unprotected edge or opening"
    for svg in (
        bar_chart({label: 3, "no helmet": 5}),
        stacked_bar_chart({label: {"a": 1}, "no helmet": {"a": 2}}, {"a": "#000"}),
    ):
        start = float(re.search(r'<rect x="([\d.]+)" y="\d+" width', str(svg)).group(1))
        assert start - 6 >= text_width(label, 12), start
    short = bar_chart({"未佩戴安全帽": 1})
    assert '<rect x="150"' in str(short)  # short labels keep the usual column
