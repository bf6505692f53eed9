"""A private Dovecot IMAP server on loopback for the mailbox-sync tests (Debian's dovecot-imapd).

Its own configuration, maildir and sockets live in a temporary directory; it listens on
127.0.0.1 on two free ports, IMAP with STARTTLS and IMAPS, with a self-signed certificate for
127.0.0.1 and localhost (``ca_file``: trust it with ``SSL_CERT_FILE``), and refuses to sign
anyone in before TLS. One user. Messages are delivered by writing files into the maildir, as
a local delivery agent would.
"""

from __future__ import annotations

import ipaddress
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "alice@mail.test"
PASSWORD = "app-password-for-tests"


def available() -> bool:
    return Path(DOVECOT).exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _system_user(name: str, fallback: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return fallback
    return name


def _mail_owner() -> tuple[int, int]:
    # Dovecot refuses to run mail sessions as root: as root, the mail belongs to "nobody".
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    if os.getuid() != 0:
        return
    for item in [path, *path.rglob("*")]:
        os.chown(item, uid, gid)


def _certificate(root: Path) -> None:
    """A self-signed certificate for 127.0.0.1 and localhost: ``cert.pem`` and ``key.pem``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (root / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (root / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


@dataclass
class Dovecot:
    root: Path
    port: int  # IMAP, STARTTLS required before login
    imaps_port: int
    process: subprocess.Popen[bytes]

    @property
    def ca_file(self) -> str:
        return str(self.root / "cert.pem")

    @property
    def maildir(self) -> Path:
        return self.root / "home" / USER / "Maildir"

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Drop one message into ``folder`` (maildir++: INBOX is the root, Sent is ``.Sent``)."""
        target = self.maildir if folder == "INBOX" else self.maildir / f".{folder}"
        for sub in ("cur", "new", "tmp"):
            (target / sub).mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.{uuid.uuid4().hex}.test"
        (target / "tmp" / name).write_bytes(raw)
        (target / "tmp" / name).rename(target / "new" / name)
        _chown_tree(self.root / "home", *_mail_owner())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> Dovecot:
    """Start the server in the foreground (a child of this process) and wait until it answers.

    Its directory is a fresh ``mkdtemp`` (pytest's tmp dirs are private to the test user, but
    Dovecot's own unprivileged processes must read the password file); ``stop`` removes it.
    """
    root = Path(tempfile.mkdtemp(prefix="scrm-dovecot-"))
    me = pwd.getpwuid(os.getuid()).pw_name
    is_root = os.getuid() == 0
    port, imaps_port = _free_port(), _free_port()
    _certificate(root)
    (root / "home" / USER / "Maildir").mkdir(parents=True)
    for sub in ("run", "state"):
        (root / sub).mkdir()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    uid, gid = _mail_owner()
    _chown_tree(root / "home", uid, gid)
    config = f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
# No penalty after the wrong-password test: later logins from 127.0.0.1 would wait seconds.
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
default_internal_user = {_system_user("dovecot", me) if is_root else me}
default_internal_group = {_system_user("dovecot", me) if is_root else me}
default_login_user = {_system_user("dovenull", me) if is_root else me}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
"""
    (root / "dovecot.conf").write_text(config)
    # Dovecot must be able to enter the directory as its unprivileged users.
    os.chmod(root, 0o755)  # noqa: S103 - a throwaway test directory
    process = subprocess.Popen(  # noqa: S603 - a fixed binary and our own config
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"dovecot exited: {output}\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return Dovecot(root, port, imaps_port, process)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("dovecot did not start within 15 s")
