"""`siteguard broker`: the Mosquitto password and ACL entries of a locked broker.

No anonymous clients: every edge box logs in as ``edge-<site>`` and may publish only under
its own ``<prefix>/<site>/#``; each API replica logs in with the API's credentials and may
only read (the shared subscription). The password file holds Mosquitto's own PBKDF2-SHA512
hashes (``$7$``, the format of ``mosquitto_passwd`` since 2.0), so no Mosquitto tool is
needed where the files are written; send Mosquitto SIGHUP (or restart it) to reload.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import secrets
import sys
from pathlib import Path

ITERATIONS = 101  # mosquitto_passwd's default
SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
API_USER = "siteguard-api"


def password_entry(user: str, password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS)
    b64 = base64.b64encode
    return f"{user}:$7${ITERATIONS}${b64(salt).decode()}${b64(digest).decode()}"


def edge_user(site_id: str) -> str:
    return f"edge-{site_id}"


def acl_block(user: str, prefix: str, site_id: str | None) -> str:
    """An edge writes under its own site only and reads the API's receipts for it; the API
    reads every site and writes the receipts (contract.delivery)."""
    if site_id is None:
        return f"user {user}\ntopic read {prefix}/#\ntopic write {prefix}/+/delivery\n"
    return (
        f"user {user}\ntopic write {prefix}/{site_id}/#\ntopic read {prefix}/{site_id}/delivery\n"
    )


def set_user(password_file: Path, acl_file: Path, user: str, password: str, acl: str) -> None:
    """Add or replace one user's password and ACL block (other users are kept)."""
    lines = password_file.read_text().splitlines() if password_file.exists() else []
    kept = [x for x in lines if x and not x.startswith(f"{user}:")]
    password_file.parent.mkdir(parents=True, exist_ok=True)
    password_file.write_text("\n".join([*kept, password_entry(user, password)]) + "\n")
    readable_by_mosquitto(password_file)
    blocks = acl_file.read_text().split("\n\n") if acl_file.exists() else []
    kept_blocks = [b.strip() for b in blocks if b.strip() and b.split()[:2] != ["user", user]]
    acl_file.parent.mkdir(parents=True, exist_ok=True)
    acl_file.write_text("\n\n".join([*kept_blocks, acl.strip()]) + "\n")


def readable_by_mosquitto(path: Path) -> None:
    """Hashes for Mosquitto's eyes only: owner and the mosquitto group (a broker started as
    root drops to the mosquitto user before it reads the file)."""
    path.chmod(0o640)
    try:
        import grp
        import os

        os.chown(path, -1, grp.getgrnam("mosquitto").gr_gid)
    except (KeyError, PermissionError, ImportError):
        pass  # no such group here: the owner reads it (Mosquitto runs as that user)


def locked_config(port: int, password_file: Path, acl_file: Path, bind: str = "127.0.0.1") -> str:
    """The listener lines of a locked broker run by this user (the demo's and the tests':
    Mosquitto started as root would switch to the mosquitto user, which cannot read files
    under another user's private temporary folder)."""
    import getpass

    return (
        f"user {getpass.getuser()}\nlistener {port} {bind}\nallow_anonymous false\n"
        f"password_file {password_file}\nacl_file {acl_file}\n"
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    b = sub.add_parser(
        "broker",
        help="password and ACL entries for a locked Mosquitto broker (no anonymous clients)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bsub = b.add_subparsers(dest="broker_command", metavar="ACTION", required=True)
    for name, text in (
        ("add-site", "an edge box's login: may publish only under <prefix>/<site>/#"),
        ("add-api", f"the API consumer's login ({API_USER} by default): may only read"),
    ):
        p = bsub.add_parser(name, help=text)
        if name == "add-site":
            p.add_argument("site_id", help="the site id of the edge's site.yaml")
        else:
            p.add_argument("--user", default=API_USER)
        p.add_argument("--password-file", type=Path, required=True, help="Mosquitto password_file")
        p.add_argument("--acl-file", type=Path, required=True, help="Mosquitto acl_file")
        p.add_argument("--prefix", default="siteguard", help="topic prefix (default siteguard)")
        p.add_argument(
            "--password",
            default=None,
            help="the password (default: a new random one, printed); write --password=VALUE "
            "when it may start with '-'",
        )
        p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    site = getattr(args, "site_id", None)
    if site is not None and not SITE_ID.match(site):
        print(f"error: {site!r} is not a site id (1-64 of A-Z a-z 0-9 _ . -)", file=sys.stderr)
        return 2
    user = edge_user(site) if site is not None else args.user
    password = args.password or secrets.token_urlsafe(18)
    set_user(args.password_file, args.acl_file, user, password, acl_block(user, args.prefix, site))
    print(f"user {user}\npassword {password}")
    where = (
        "site.yaml mqtt.username / mqtt.password" if site else "SITEGUARD_MQTT_USERNAME/PASSWORD"
    )
    print(f"(shown once: put it in {where}; then reload Mosquitto with SIGHUP)", file=sys.stderr)
    return 0
