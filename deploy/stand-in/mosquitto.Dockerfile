# Stand-in for eclipse-mosquitto:2 (see README.md): Debian's Mosquitto, the same paths.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends mosquitto \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /mosquitto/config /mosquitto/data /mosquitto/log \
    && printf 'listener 1883\nallow_anonymous true\n' > /mosquitto/config/mosquitto.conf \
    && chown -R mosquitto:mosquitto /mosquitto
ENV PATH=/usr/sbin:$PATH
USER mosquitto
EXPOSE 1883
CMD ["mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]
