"""A private Dovecot IMAP server on loopback for the mailbox tests: its own configuration, state,
sockets and maildir in a temporary folder, passwd-file authentication, no TLS; stopped at the end
of the session. As root (CI), Dovecot's unprivileged processes and the mail run as `nobody`."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from tests.guards import wait_for
from tests.needs import DOVECOT, NO_DOVECOT

USER = "appel"
PASSWORD = "mot-de-passe-de-la-boite-de-test"


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    root: Path

    def settings_env(self) -> dict[str, str]:
        """The environment that points Transitions' settings at this server."""
        return {"IMAP_HOST": self.host, "IMAP_PORT": str(self.port), "IMAP_SECURITY": "aucune",
                "IMAP_USER": USER, "IMAP_PASSWORD": PASSWORD}

    def box(self):  # noqa: ANN201 — an imap_tools MailBoxUnencrypted, logged in
        from imap_tools import MailBoxUnencrypted

        return MailBoxUnencrypted(self.host, self.port, timeout=60).login(USER, PASSWORD, initial_folder=None)

    def reset(self) -> None:
        """Empty every folder (each test starts with an empty mailbox)."""
        box = self.box()
        try:
            for folder in box.folder.list():
                box.folder.set(folder.name)
                box.delete(box.uids())
        finally:
            box.logout()

    def deliver(self, raw: bytes, when: datetime, folder: str = "INBOX") -> None:
        """APPEND a message with an explicit arrival time (INTERNALDATE)."""
        box = self.box()
        try:
            box.append(raw, folder, dt=when)
        finally:
            box.logout()

    def count(self, folder: str) -> int:
        box = self.box()
        try:
            if not box.folder.exists(folder):
                return 0
            box.folder.set(folder)
            return len(box.uids())
        finally:
            box.logout()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        internal, uid, gid = "nobody", nobody.pw_uid, nobody.pw_gid
        os.chown(root / "mail", uid, gid)
    else:
        internal, uid, gid = pwd.getpwuid(os.geteuid()).pw_name, os.geteuid(), os.getegid()
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = {internal}
default_login_user = {internal}
first_valid_uid = 1
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A running private Dovecot (skipped with the family's reason where it is not installed). Its
    folder is not under pytest's own (private to root in CI): `nobody` reads the passwd file."""
    if DOVECOT is None:
        pytest.skip(NO_DOVECOT)
    root = Path(tempfile.mkdtemp(prefix="transitions-dovecot-"))
    root.chmod(0o755)
    for name in ("run", "state", "mail"):
        (root / name).mkdir()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (root / "passwd").chmod(0o644)
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(_config(root, port))
    # The master daemonizes: its output goes to a file, or `run` would wait for the pipes to close.
    with open(root / "start.log", "wb") as log:
        subprocess.run([DOVECOT, "-c", str(config)], check=True, stdout=log, stderr=log, timeout=120)

    def listening() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                return True
        except OSError:
            return False

    server = Dovecot("127.0.0.1", port, root)
    try:
        wait_for(listening, f"Dovecot n'écoute pas sur le port {port} (voir {root}/dovecot.log)")
        yield server
    finally:
        subprocess.run([DOVECOT, "-c", str(config), "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120)
        wait_for(lambda: not (root / "run" / "master.pid").exists(), "l'arrêt de Dovecot")
        shutil.rmtree(root, ignore_errors=True)
