"""A throwaway PostgreSQL cluster with TLS on, and the certificates it needs, made with the `openssl` CLI.

The machine's own PostgreSQL is shared and left alone: this one lives in a temporary folder, on a free
port, for one test module. Root cannot run PostgreSQL, so as root the cluster belongs to `postgres`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CERT_USER = "tocsin_cert"  # the role that must present a client certificate
KEY_PASSWORD = "key-passw0rd"  # the client key is also kept encrypted with this


@dataclass(frozen=True)
class TlsCluster:
    """Where the cluster listens and the files a client needs."""

    port: int
    folder: Path

    def url(self, host: str = "localhost", user: str = "postgres", **params: str) -> str:
        """A libpq-style URL to the cluster's `postgres` database."""
        query = "&".join(f"{name}={value}" for name, value in params.items())
        return f"postgresql://{user}@{host}:{self.port}/postgres" + (f"?{query}" if query else "")

    def file(self, name: str) -> str:
        """A certificate or key the test made (ca.crt, wrong-ca.crt, client.crt, client.key, client-enc.key)."""
        return str(self.folder / name)


def why_not() -> str | None:
    """Why the cluster cannot be started here, or None."""
    if shutil.which("openssl") is None:
        return "the openssl command is not installed"
    if _bin("initdb") is None:
        return "PostgreSQL's server programs (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _user_exists("postgres")):
        return "running as root without a postgres user and runuser to start PostgreSQL as"
    return None


@contextmanager
def tls_cluster() -> Iterator[TlsCluster]:
    """Start the cluster (ssl=on, the server certificate names only `localhost`); stop and delete it after."""
    folder = Path(tempfile.mkdtemp(prefix="tocsin-tls-pg-"))
    data = folder / "data"
    try:
        make_certificates(folder)
        if os.geteuid() == 0:  # PostgreSQL refuses root; its files must be its own
            shutil.chown(folder, "postgres", "postgres")
            for path in folder.iterdir():
                shutil.chown(path, "postgres", "postgres")
            folder.chmod(0o755)  # the tests, as root, read the client files
        _as_owner(str(_bin("initdb")), "-D", str(data), "-U", "postgres", "--auth=trust", "-N", "-E", "UTF8")
        port = _free_port()
        (data / "postgresql.auto.conf").write_text(
            f"port = {port}\nlisten_addresses = 'localhost'\nunix_socket_directories = '{folder}'\n"
            f"ssl = on\nssl_cert_file = '{folder}/server.crt'\nssl_key_file = '{folder}/server.key'\n"
            f"ssl_ca_file = '{folder}/ca.crt'\nfsync = off\nmax_connections = 40\nshared_buffers = 16MB\n"
        )
        hba = data / "pg_hba.conf"
        hba.write_text(f"hostssl all {CERT_USER} all cert\n" + hba.read_text())
        if os.geteuid() == 0:
            for path in (data / "postgresql.auto.conf", hba):
                shutil.chown(path, "postgres", "postgres")
        pg_ctl = str(_bin("pg_ctl"))
        _as_owner(pg_ctl, "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60", "start")
        try:
            psql = [str(_bin("psql")), "-h", str(folder), "-p", str(port), "-U", "postgres"]
            _as_owner(*psql, "-qc", f"CREATE ROLE {CERT_USER} LOGIN")
            yield TlsCluster(port=port, folder=folder)
        finally:
            _as_owner(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def make_certificates(folder: Path) -> None:
    """A test CA; a server certificate it signs for `localhost` only; a client one for CERT_USER (its key
    also encrypted); and an unrelated CA, the wrong root."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    for ca in ("ca", "wrong-ca"):
        _openssl(
            *f"req -x509 -keyout {ca}.key -out {ca}.crt -days 2".split(), *ec, *ca_ext, "-subj", f"/CN={ca}", cwd=folder
        )
    for name, subject, san in (("server", "localhost", "subjectAltName=DNS:localhost\n"), ("client", CERT_USER, "")):
        (folder / f"{name}.ext").write_text(f"{san}authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n")
        _openssl(*f"req -new -keyout {name}.key -out {name}.csr -subj /CN={subject}".split(), *ec, cwd=folder)
        sign = f"x509 -req -in {name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile {name}.ext"
        _openssl(*sign.split(), "-out", f"{name}.crt", cwd=folder)
    encrypt = f"pkey -in client.key -out client-enc.key -aes256 -passout pass:{KEY_PASSWORD}"
    _openssl(*encrypt.split(), cwd=folder)
    for key in folder.glob("*.key"):
        key.chmod(0o600)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _as_owner(*command: str) -> None:
    """Run a PostgreSQL program as the cluster's owner: this user, or `postgres` when we are root."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run([*prefix, *command], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} failed: {done.stderr.strip() or done.stdout.strip()}")


def _bin(name: str) -> Path | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1])
    on_path = shutil.which(name)
    return Path(on_path) if on_path else None


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
