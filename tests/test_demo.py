"""`siteguard demo` end to end: local broker, RTSP server, edge worker, printed events."""

import pytest
from onnx_factory import make_model, raw_prediction

from siteguard.cli import main
from siteguard.pipeline.decode import OutputKind

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("rtsp", [True, False])
def test_demo_prints_camera_status_and_hazard_events(tmp_path, capsys, rtsp):
    pred = raw_prediction([(32, 32, 16, 30), (32, 20, 6, 6)], [[0.9, 0.0], [0.0, 0.8]])
    model = make_model(tmp_path / "m.onnx", pred, OutputKind.RAW, ["person", "head"])
    args = ["demo", "--model", str(model), "--duration", "12", "--data", str(tmp_path / "demo")]
    assert main(args + ([] if rtsp else ["--no-rtsp"])) == 0
    out = capsys.readouterr().out
    assert ("rtsp://127.0.0.1:" in out) == rtsp
    assert "reading sample-site.mp4 as a file" in out or rtsp
    assert "camera cam-gate online" in out
    assert "EVENT start  no_helmet [general/一般]" in out
    assert "evidence: http://127.0.0.1:" in out
    assert "EVENT end" in out  # Ctrl-C / --duration ends open hazards cleanly
    assert any((tmp_path / "demo" / "evidence").rglob("*.jpg"))
    # the API ingested the hazards and the inspector's notice was issued and saved
    assert "NOTICE SG-demo-site-" in out and "未佩戴安全帽" in out
    pdf = next((tmp_path / "demo" / "api").glob("notice-*.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert "notice(s), " in out and "1 notice(s)" in out
    assert "/console/" in out and "contractor" in out and "console: http://127.0.0.1:" in out
