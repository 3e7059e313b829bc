"""The bulletin PDF as filed: rendered with poppler (pdftoppm, pdftotext), it holds the
header block, the full project table with its header row on every page it spans, and
"第 N 页 / 共 M 页" with the document number at the foot of every page."""

import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from siteguard.api.store.tables import ProjectRow
from tests.api.bulletin.two_months import AUTHORITY, NAME, SITE, J, build
from tests.support.api import api_client

EXTRA = 45  # enough projects for the table to run over several pages

pytestmark = pytest.mark.skipif(
    not shutil.which("pdftoppm"), reason="poppler-utils (scripts/system-deps.sh)"
)


def pdftotext_pages(pdf, pages):
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for n in range(1, pages + 1)
    ]


def test_the_pdf_has_every_project_and_numbered_pages(tmp_path):
    app = build(f"sqlite:///{tmp_path}/p.db", tmp_path)
    with app.state.services.sessions.begin() as s:
        for i in range(EXTRA):
            s.add(ProjectRow(site_id=f"bh-{i + 200}", name=f"工程{i + 1:02d}", jurisdiction=J))
    c = api_client(app, "regulator", jurisdiction=J)
    r = c.get("/regulator/bulletin.pdf", params={"month": "2026-10"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "b.pdf"
    pdf.write_bytes(r.content)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) >= 3
    for png in pngs:  # every page rendered, with something on it
        pixels = np.asarray(Image.open(png).convert("L"))
        assert (pixels < 128).mean() > 0.002, png
    texts = pdftotext_pages(pdf, len(pngs))
    squeezed = [re.sub(r"\s+", "", t) for t in texts]
    for n, t in enumerate(squeezed, 1):
        assert f"第{n}页/共{len(pngs)}页" in t, (n, t[-200:])
        assert "包建安〔2026〕11号" in t  # the number on every page
    first = squeezed[0]
    assert AUTHORITY in first and "发文日期：2026年11月5日" in first
    assert "主要指标与环比" in first and "近6个月趋势" in first
    everything = "".join(squeezed)
    assert "全部项目" in everything
    assert f"{NAME}（{SITE}）" in everything
    for i in range(EXTRA):
        assert f"工程{i + 1:02d}（bh-{i + 200}）" in everything, i
    # the project table's header row is on every page the table runs over
    table_pages = [t for t in squeezed if re.search(r"工程\d\d（bh-", t)]
    assert len(table_pages) >= 2
    assert all("已整改/条目" in t and "风险系数" in t for t in table_pages)
    # 环比 in the key-figure table: hazards 3 against 2
    assert "隐患32↑1（+50.0%）变差" in first
    en = c.get("/regulator/bulletin.pdf", params={"month": "2026-10", "lang": "en"})
    (tmp_path / "en.pdf").write_bytes(en.content)
    en_text = pdftotext_pages(tmp_path / "en.pdf", 1)[0]
    assert "Key figures against last month" in en_text and "Page 1 of" in en_text
