# SiteGuard images. Two targets from one distribution:
#   docker build --target edge -t siteguard-edge .   (onnxruntime, OpenCV; no torch)
#   docker build --target api  -t siteguard-api  .   (FastAPI, PostgreSQL driver, CJK font for PDFs)
# Not built in CI (no Docker engine there); see docs/deploy.md.

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system siteguard && useradd --system --gid siteguard --home /var/lib/siteguard --create-home siteguard
WORKDIR /opt/siteguard

FROM base AS build
COPY pyproject.toml README.md ./
COPY cli ./cli
COPY pipeline ./pipeline
COPY edge ./edge
COPY api ./api
COPY models ./models
COPY datasets ./datasets
# a wheel of this project only; its run-time dependencies (never torch) install below
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM base AS edge
# FFmpeg comes inside opencv-python-headless; nothing else from Debian is needed
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels \
    && python -c "import importlib.util as u; assert u.find_spec('torch') is None, 'torch must not be in the edge image'"
USER siteguard
WORKDIR /var/lib/siteguard
EXPOSE 8090
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8090/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["siteguard", "edge"]
CMD ["--config", "/etc/siteguard/site.yaml"]

FROM base AS api
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
USER siteguard
WORKDIR /var/lib/siteguard
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["siteguard", "api", "--host", "0.0.0.0", "--port", "8000"]
