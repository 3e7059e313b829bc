# Stand-in for python:3.11-slim (see README.md): Debian's Python 3.11 in a venv on PATH,
# so `python` and `pip` behave as in the official image.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
# the build host's extra certificate authorities (none, or an egress proxy's)
COPY ca/ /usr/local/share/ca-certificates/
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
    && update-ca-certificates && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /usr/local/python
ENV PATH=/usr/local/python/bin:$PATH LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
