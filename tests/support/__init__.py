"""Helpers the tests share (importable as `tests.support`): small ONNX models made on the
spot, a real Chromium, API clients with keys of a role, the repository's paths. The real
local services (broker, RTSP server, PostgreSQL) are `siteguard.demo.services`."""
