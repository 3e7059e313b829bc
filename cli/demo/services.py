"""Real local services for the demo, the tests and the benchmarks: a Mosquitto broker, an
MQTT subscriber, a GStreamer RTSP server, a PostgreSQL cluster, a picture server.

Installed by scripts/system-deps.sh (scripts/test runs it); a missing binary fails the
test with that instruction rather than skipping it.
"""

from __future__ import annotations

import getpass
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from siteguard.demo.ports import free_port, wait_port


def wait_until(cond: Callable[[], object], timeout: float = 20.0) -> bool:
    """Poll ``cond`` until it is true (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


class Mosquitto:
    """A real broker on loopback; stop() and start() again keep port, logins and persisted
    state. Locked by default (no anonymous clients), as the product ships."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        users: dict[str, tuple[str, str | None]] | None = None,
        tls: tuple[Path, Path, Path] | None = None,
        superuser: tuple[str, str] | None = None,
        anonymous: bool = False,
    ) -> None:
        """A locked broker (no anonymous clients). ``users``: logins ``name -> (password,
        site)``, the ACL `siteguard broker` writes: an edge's site it may publish under, or
        None for a reader of every site (the API). ``superuser``: ``(name, password)``, a
        login that may read and write every topic (tests, benchmarks); with neither, one is
        made with a random password. ``broker.login`` is that login as
        ``{"port", "username", "password"}`` (``MqttConfig(**broker.login)``,
        ``MqttIngestSettings(**broker.login)``, ``Collector(**broker.login, topic=...)``).
        ``anonymous=True``: an open broker that lets anyone in; only for a test that asks
        for it by name. ``tls``: (CA, certificate, key) files for a TLS-only listener."""
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise RuntimeError("mosquitto is not installed: run scripts/system-deps.sh")
        if anonymous and (users or superuser):
            raise ValueError("an anonymous broker has no logins: drop users and superuser")
        self.exe = exe
        self.port = port or free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        workdir.chmod(0o755)  # started as root, Mosquitto reads its files as mosquitto
        self.conf = workdir / "mosquitto.conf"
        self.users = dict(users or {})
        if not anonymous and not users and superuser is None:
            superuser = ("siteguard-test", secrets.token_urlsafe(18))
        self.superuser = superuser
        if anonymous:
            # run as this user (started as root, Mosquitto would switch to the mosquitto
            # user, which cannot write its persistence file in this user's folder)
            listener = (
                f"user {getpass.getuser()}\nlistener {self.port} 127.0.0.1\nallow_anonymous true\n"
            )
        else:
            from siteguard.broker_cmd import acl_block, locked_config, set_user

            passwd, acl = workdir / "passwd", workdir / "acl"
            if superuser is not None:
                name, password = superuser
                set_user(passwd, acl, name, password, f"user {name}\ntopic readwrite #\n")
            for name, (password, site) in self.users.items():
                set_user(passwd, acl, name, password, acl_block(name, "siteguard", site))
            listener = locked_config(self.port, passwd, acl)
        if tls:  # (CA, certificate, key): the listener speaks TLS only
            ca, cert, key = tls
            listener += f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
        self.conf.write_text(
            listener + f"persistence true\npersistence_location {workdir}/\nautosave_interval 1\n"
            "max_queued_messages 100000\nmax_inflight_messages 1000\n"
        )
        self.log = workdir / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def username(self) -> str:
        """The full-access login's name."""
        if self.superuser is None:
            raise AttributeError("this broker has no full-access login (superuser=...)")
        return self.superuser[0]

    @property
    def password(self) -> str:
        if self.superuser is None:
            raise AttributeError("this broker has no full-access login (superuser=...)")
        return self.superuser[1]

    @property
    def login(self) -> dict[str, Any]:
        """``{"port", "username", "password"}`` of the full-access login."""
        return {"port": self.port, "username": self.username, "password": self.password}

    def login_as(self, name: str) -> dict[str, Any]:
        """The same for one of ``users`` (narrower rights: an edge's site, the API)."""
        return {"port": self.port, "username": name, "password": self.users[name][0]}

    def start(self) -> Mosquitto:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdout=log, stderr=log)
        if not wait_port(self.port):
            raise TimeoutError(f"nothing listens on 127.0.0.1:{self.port}")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def kill(self) -> None:
        """kill -9: no chance to save what it holds in memory."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


class Collector:
    """A durable MQTT 5 subscriber (persistent session) that records what arrives."""

    def __init__(
        self,
        port: int,
        topic: str,
        client_id: str = "test-collector",
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        """``username``/``password``: its login to a locked broker
        (``Collector(**broker.login, topic=...)``)."""
        self.messages: list[tuple[str, bytes, bool]] = []
        self.redelivered: list[tuple[str, bytes]] = []  # DUP-flagged: the broker sent it again
        self._lock = threading.Lock()
        self.topic = topic
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.subscribed = threading.Event()
        self.client.on_connect = lambda c, *_: c.subscribe(self.topic, qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.2, 1)  # type: ignore[arg-type]
        if username is not None:
            self.client.username_pw_set(username, password)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", port, keepalive=10, clean_start=False, properties=props)
        self.client.loop_start()
        # ready when the broker has the subscription: what is published after returns here
        # reaches it (a publisher started right after once raced the SUBSCRIBE)
        if not self.subscribed.wait(10):
            self.client.loop_stop()
            raise TimeoutError(f"no subscription to {topic!r} on 127.0.0.1:{port} within 10 s")

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))
            if msg.dup:
                self.redelivered.append((msg.topic, bytes(msg.payload)))

    def wait_for(self, count: int, timeout: float = 30.0, topic_suffix: str = "") -> list[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.payloads(topic_suffix)
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise TimeoutError(f"only {len(self.payloads(topic_suffix))} of {count} messages arrived")

    def payloads(self, topic_suffix: str = "") -> list[bytes]:
        with self._lock:
            return [p for t, p, _ in self.messages if t.endswith(topic_suffix)]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


REPO = Path(__file__).resolve().parents[2]  # the checkout (scripts/rtsp_server.py)


class RtspServer:
    """scripts/rtsp_server.py under Debian's python3 (GStreamer RTSP server)."""

    def __init__(self, mounts: dict[str, Path], port: int | None = None) -> None:
        if not Path("/usr/bin/python3").exists():
            raise RuntimeError("Debian's /usr/bin/python3 is missing: run scripts/system-deps.sh")
        self.port = port or free_port()
        self.mounts = mounts
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, name: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{name}"

    def start(self) -> RtspServer:
        args = [f"{k}={v}" for k, v in self.mounts.items()]
        self.proc = subprocess.Popen(
            [
                "/usr/bin/python3",
                str(REPO / "scripts" / "rtsp_server.py"),
                "--port",
                str(self.port),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if "serving" not in line:
            raise RuntimeError(f"RTSP server did not start: {line}")
        if not wait_port(self.port):
            raise TimeoutError(f"nothing listens on 127.0.0.1:{self.port}")
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


class Postgres:
    """A throwaway PostgreSQL cluster on loopback (Debian's postgresql, from
    scripts/system-deps.sh); as root the server runs as the postgres user."""

    def __init__(self, workdir: Path) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bins:
            raise RuntimeError("PostgreSQL is not installed: run scripts/system-deps.sh")
        self.bin = bins[-1]
        self.dir = workdir
        self.port = free_port()
        self._n = 0

    def _run(self, *args: str) -> None:
        import os

        cmd = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)]
        subprocess.run(cmd, check=True, capture_output=True)

    def start(self) -> Postgres:
        import os
        import shutil as sh

        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            sh.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start")
        return self

    def new_database(self) -> str:
        import psycopg

        self._n += 1
        name = f"t{self._n}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")


class PhotoServer:
    """A plain HTTP server for a folder of pictures: stands in for an edge box's evidence
    endpoint. `stop()` takes it away (the box is gone)."""

    def __init__(self, folder: Path) -> None:
        import functools
        import http.server

        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self._stopped = False

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self.httpd.shutdown()
            self.httpd.server_close()


def make_tls_files(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for ``host`` (openssl): (ca, cert, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.crt", folder / "ca.key"
    cert, key, csr = folder / "server.crt", folder / "server.key", folder / "server.csr"

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=siteguard-test-ca",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca),
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN={host}",
        "-keyout",
        str(key),
        "-out",
        str(csr),
    )
    ext = folder / "san.ext"
    ext.write_text(f"subjectAltName=IP:{host}\n")
    openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        str(ext),
        "-out",
        str(cert),
    )
    for f in (ca, cert, key):
        f.chmod(0o644)
    return ca, cert, key
