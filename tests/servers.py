"""Real servers for the warehouse tests and benchmarks, started on free local ports in temp folders.

PostgreSQL: Debian's server binaries (``scripts/setup_system.sh`` installs them), a fresh cluster per
test session made with ``initdb`` (password authentication, the C locale) and stopped at the end.
PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` system user.
Nothing has to be running before ``make test``.

Spark Connect: the server class shipped in pyspark's own jars (``spark-connect_2.13-*.jar``), started with
pyspark's ``bin/spark-submit`` in local mode (Java from ``scripts/setup_system.sh``), in a temp folder,
as its own process group, which is killed at the end.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
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


@dataclass
class SparkConnectServer:
    """A running Spark Connect server on 127.0.0.1:``port`` (local mode, its catalog in memory)."""

    port: int
    folder: Path
    #: The server's own log (its last lines go into the errors of :func:`spark_connect`).
    log: Path

    def url(self, database: str = "default", **options: str) -> str:
        """An ``sc://`` pack URL of database ``database``."""
        extra = "".join(f"&{k}={v}" for k, v in options.items())
        return f"sc://127.0.0.1:{self.port}?database={database}{extra}"


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _spark_submit() -> Path:
    """pyspark's own ``bin/spark-submit`` (its jars include the Spark Connect server)."""
    import importlib.util

    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pyspark is not installed: pip install -e '.[spark]'")
    home = Path(next(iter(spec.submodule_search_locations)))
    if not list((home / "jars").glob("spark-connect_*.jar")):
        raise RuntimeError(f"pyspark at {home} has no spark-connect jar (pyspark >= 4 ships it)")
    return home / "bin" / "spark-submit"


@contextlib.contextmanager
def spark_connect(*, cores: int = 2, memory: str = "1g", conf: dict[str, str] | None = None,
                  wait: float = 180.0) -> Iterator[SparkConnectServer]:
    """Start a Spark Connect server on a free local port; kill its process group and delete its files afterwards.

    ``conf``: more ``--conf`` settings of the server (e.g. the default session time zone). The wait for
    the port is bounded (``wait`` seconds): a server that exits or does not answer in time raises
    ``RuntimeError`` with the tail of its log.
    """
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise RuntimeError("Spark needs Java: run `make system` (installs openjdk-17-jre-headless)")
    submit = _spark_submit()
    folder = Path(tempfile.mkdtemp(prefix="opsnb-sc-"))
    log = folder / "server.log"
    port = free_port()
    settings = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.sql.warehouse.dir": str(folder / "warehouse"),
        "spark.ui.enabled": "false",
        # a review's queries are small: Spark's default 200 shuffle partitions make each one seconds slower
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        **(conf or {}),
    }
    cmd = [str(submit), "--master", f"local[{cores}]", "--driver-memory", memory, "--name", "opsnb-test-connect",
           "--class", "org.apache.spark.sql.connect.service.SparkConnectServer"]
    for k, v in settings.items():
        cmd += ["--conf", f"{k}={v}"]
    env = {**os.environ, "SPARK_HOME": str(submit.parent.parent), "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("SPARK_CONF_DIR", None)  # the server's settings are the ones above, not the machine's
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + wait
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the Spark Connect server exited (code {proc.returncode}) before answering on "
                                   f"port {port}; its log ({log}) ends:\n{_tail(log)}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Spark Connect server did not answer on 127.0.0.1:{port} within {wait:.0f} s; "
                                   f"its log ({log}) ends:\n{_tail(log)}")
            time.sleep(0.5)
        yield SparkConnectServer(port, folder, log)
    finally:
        _stop_group(proc)
        shutil.rmtree(folder, ignore_errors=True)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """End the server's process group: SIGTERM (Spark's shutdown hooks run), SIGKILL after 20 s."""
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    # anything left in the group (the JVM's helpers) goes too
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
