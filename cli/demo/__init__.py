"""Demo and reference tooling, not part of the service: the bundled sample, a generated
history, a reference supervision-platform receiver, and real local services (broker, RTSP
server, PostgreSQL) for the demo, the tests and the benchmarks."""
