# SiteGuard images. Two targets from one distribution:
#   docker build --target edge -t siteguard-edge .   (onnxruntime, OpenCV; no torch)
#   docker build --target api  -t siteguard-api  .   (FastAPI, PostgreSQL driver, CJK font for PDFs)
# Built and run by tests/images (scripts/test); see docs/deploy.md. Where Docker Hub cannot be
# reached, build on local stand-in bases: eval "$(scripts/stand-in-images)" and
#   docker build --build-arg PYTHON_IMAGE=$PYTHON_IMAGE ...

ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system siteguard && useradd --system --gid siteguard --home /var/lib/siteguard --create-home siteguard
WORKDIR /opt/siteguard

FROM base AS build
COPY pyproject.toml README.md ./
COPY cli ./cli
COPY contract ./contract
COPY pipeline ./pipeline
COPY edge ./edge
COPY api ./api
COPY models ./models
COPY datasets ./datasets
# The project and its run-time dependencies (never torch) in a venv that the targets copy
# whole: one layer, no wheel or pip cache left behind, and no pip at run time.
RUN python -m venv /opt/siteguard/venv \
    && /opt/siteguard/venv/bin/pip install . \
    && /opt/siteguard/venv/bin/python -c "import importlib.util as u; assert u.find_spec('torch') is None, 'torch must not be in the images'" \
    && /opt/siteguard/venv/bin/pip uninstall -y -q pip setuptools

FROM base AS edge
# FFmpeg comes inside opencv-python-headless; nothing else from Debian is needed
COPY --from=build /opt/siteguard/venv /opt/siteguard/venv
ENV PATH=/opt/siteguard/venv/bin:$PATH
# the bundled sample clip at a fixed path (compose.yaml's sample site watches it)
RUN ln -s "$(python -c 'from siteguard.demo.sample import sample_video_path; print(sample_video_path())')" \
    /opt/siteguard/sample-site.mp4
USER siteguard
WORKDIR /var/lib/siteguard
EXPOSE 8090
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8090/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["siteguard", "edge"]
CMD ["--config", "/etc/siteguard/site.yaml"]

FROM base AS api
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
COPY --from=build /opt/siteguard/venv /opt/siteguard/venv
ENV PATH=/opt/siteguard/venv/bin:$PATH
USER siteguard
WORKDIR /var/lib/siteguard
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["siteguard", "api", "--host", "0.0.0.0", "--port", "8000"]
