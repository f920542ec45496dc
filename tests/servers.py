"""Real servers for the warehouse tests and benchmarks, started on free local ports in temp folders.

PostgreSQL: Debian's server binaries (``scripts/setup_system.sh`` installs them), a fresh cluster per
test session made with ``initdb`` (password authentication, the C locale) and stopped at the end.
PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` system user.
Nothing has to be running before ``make test``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The password of the test cluster's superuser: the redaction tests grep every output for it.
PG_PASSWORD = "opsnb-S3cret-pw-7781"
PG_USER = "opsnb"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin(tool: str) -> str:
    """Path of a PostgreSQL server program (``initdb``, ``pg_ctl``): PATH, then Debian's folder."""
    found = shutil.which(tool)
    if found:
        return found
    hits = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if not hits:
        raise RuntimeError(f"{tool} not found: run `make system` (installs Debian's postgresql)")
    return hits[-1]


@dataclass
class PgServer:
    """A running PostgreSQL cluster on 127.0.0.1:``port``."""

    port: int
    folder: Path
    user: str = PG_USER
    password: str = PG_PASSWORD

    def url(self, db: str = "postgres", *, schema: str | None = None, password: bool = False) -> str:
        """A ``postgres://`` URL (with the password only when asked)."""
        auth = f"{self.user}:{self.password}" if password else self.user
        q = f"?schema={schema}" if schema else ""
        return f"postgres://{auth}@127.0.0.1:{self.port}/{db}{q}"

    def sql(self, statement: str, db: str = "postgres") -> None:
        """Run one statement as the superuser."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                             dbname=db, autocommit=True) as con:
            con.execute(statement)  # type: ignore[arg-type]


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def postgres() -> Iterator[PgServer]:
    """Start a throwaway PostgreSQL cluster; stop it and delete its files afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="opsnb-pg-"))
    data = folder / "data"
    pwfile = folder / "pw"
    pwfile.write_text(PG_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(pwfile, "postgres")
    port = free_port()
    try:
        subprocess.run(_as_owner([pg_bin("initdb"), "-D", str(data), "-U", PG_USER, "--auth=scram-sha-256",
                                  f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"]),
                       check=True, capture_output=True)
        opts = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c max_connections=60 -c shared_buffers=256MB")
        subprocess.run(_as_owner([pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(folder / "log"),
                                  "-w", "start"]), check=True, capture_output=True)
        try:
            yield PgServer(port, folder)
        finally:
            subprocess.run(_as_owner([pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                           capture_output=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
