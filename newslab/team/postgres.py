"""PostgreSQL for the stack: a cluster of its own under ``data/team/postgres``, or an existing server.

The cluster is made with ``initdb`` (SCRAM passwords; the superuser's is generated) and run with
``pg_ctl``; as root both run as the ``postgres`` user, which must be able to reach the directory.
Roles get their passwords as SCRAM verifiers made here, so no password crosses the wire or can
land in the server's log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import pwd
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.errors import NewslabError
from core.redact import redact

PG_BIN = Path(os.environ.get("NEWSLAB_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"


@dataclass(frozen=True)
class Server:
    """Where the databases are and how newslab administers them."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    external: bool

    def connect(self, dbname: str | None = None):  # type: ignore[no-untyped-def]
        import psycopg

        try:
            return psycopg.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password,
                dbname=dbname or self.dbname,
                autocommit=True,
                connect_timeout=10,
            )
        except psycopg.OperationalError as exc:
            raise NewslabError(
                f"cannot connect to PostgreSQL at {self.host}:{self.port} as {self.user}: {redact(exc)}",
                "Check NEWSLAB_DATABASE_URL (user, password, host, port) or that the cluster runs.",
            ) from None


def from_url(url: str) -> Server:
    """An existing server from ``NEWSLAB_DATABASE_URL`` (a role that may create roles and databases)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres") or not parts.hostname:
        raise NewslabError(
            f"NEWSLAB_DATABASE_URL is not a PostgreSQL URL: {redact(url)}",
            "Use postgresql://ADMIN:PASSWORD@HOST:PORT/postgres (a role with CREATEROLE and CREATEDB).",
        )
    return Server(
        parts.hostname,
        parts.port or 5432,
        unquote(parts.username or SUPERUSER),
        unquote(parts.password or ""),
        parts.path.lstrip("/") or "postgres",
        external=True,
    )


def binaries() -> Path:
    for folder in (PG_BIN, *(Path(p).parent for p in [shutil.which("initdb")] if p)):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise NewslabError(
        f"PostgreSQL server binaries (initdb, pg_ctl) not found in {PG_BIN}.",
        "Install PostgreSQL 15 (apt-get install postgresql-15), set NEWSLAB_PG_BIN to its bin folder, "
        "or point NEWSLAB_DATABASE_URL at an existing server.",
    )


def _as_postgres() -> list[str]:
    """The prefix that runs a command as the cluster's owner (initdb and postgres refuse root)."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _owner_can_reach(root: Path) -> None:
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise NewslabError(
            "running as root, and there is no `postgres` user to run the cluster as.",
            "Run newslab as an ordinary user, or create the user (the postgresql package does).",
        ) from None
    probe = subprocess.run([*_as_postgres(), "test", "-x", str(root.parent)], capture_output=True)
    if probe.returncode != 0:
        raise NewslabError(
            f"the postgres user cannot reach {root.parent} (a folder above it is private to root).",
            "Set NEWSLAB_DATA_DIR to a folder every user may traverse (e.g. under /srv), or run as "
            "an ordinary user.",
        )


def _run(args: list[str], what: str, log: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        where = f"; see {log}" if log else ""
        raise NewslabError(
            f"{what} failed (exit {done.returncode}){where}: {redact(done.stderr.strip())[-800:]}"
        )
    return done


@dataclass(frozen=True)
class Cluster:
    """A cluster of the stack's own: data, log and socket under ``root``."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def init(self, password: str, host: str) -> None:
        """initdb once, with SCRAM passwords and the superuser's generated one."""
        bin_dir = binaries()
        self.root.mkdir(parents=True, exist_ok=True)
        _owner_can_reach(self.root)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        if self.initialised():
            return
        pwfile = self.root / ".pwfile"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        try:
            _run(
                [
                    *_as_postgres(),
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    SUPERUSER,
                    "-A",
                    "scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                ],
                "initdb",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if host not in ("127.0.0.1", "localhost", "::1"):  # other machines: passwords, never trust
            hba = self.data / "pg_hba.conf"
            with open(hba, "a") as fh:
                fh.write("# newslab team: other machines, with a password\n")
                fh.write("host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n")

    def pid(self) -> int | None:
        """The postmaster's pid when the cluster runs, else None."""
        if not self.initialised():
            return None
        done = subprocess.run(
            [*_as_postgres(), str(binaries() / "pg_ctl"), "status", "-D", str(self.data)],
            capture_output=True,
            text=True,
        )
        found = re.search(r"PID: (\d+)", done.stdout)
        return int(found.group(1)) if done.returncode == 0 and found else None

    def start(self, host: str, port: int, timeout: float = 60.0) -> int:
        listen = "*" if host in ("0.0.0.0", "::") else host
        options = f"-p {port} -k {self.root} -c listen_addresses={listen}"
        _run(
            [
                *_as_postgres(),
                str(binaries() / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.log),
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            "starting PostgreSQL",
            self.log,
        )
        pid = self.pid()
        if pid is None:
            raise NewslabError(f"PostgreSQL did not come up; see {self.log}.")
        return pid

    def stop(self) -> bool:
        if self.pid() is None:
            return False
        _run(
            [*_as_postgres(), str(binaries() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            "stopping PostgreSQL",
            self.log,
        )
        return True


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def ensure_database(server: Server, name: str, password: str) -> None:
    """A role ``name`` with ``password`` and a database ``name`` it owns (made or brought up to date)."""
    from psycopg import sql

    with server.connect() as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(scram_verifier(password))
            )
        )
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            if server.external:  # a non-superuser admin must be a member to give the database away
                conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(name)))
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(name))
            )
