"""A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, a free loopback port, stopped and removed
at the end even on failure.

PostgreSQL refuses to run as root. As root (CI here), the cluster runs as the `postgres` user that Debian's
package creates, through `runuser`; as anyone else, as that user. `python -m twinapi_conformance.postgres -- CMD`
runs CMD with TWINAPI_TEST_POSTGRES_URL set to the cluster's admin URL (each test makes its own database there).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

URL_VARIABLE = "TWINAPI_TEST_POSTGRES_URL"
LOOPBACK = "127.0.0.1"
SUPERUSER = "postgres"
# Throwaway data: durability settings off make a test cluster several times faster and lose nothing that matters.
# Crash safety of the applications does not depend on them: a killed server loses no committed write either way.
SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    " -c shared_buffers=32MB -c listen_addresses=" + LOOPBACK
)
STEP_TIMEOUT = 60  # seconds for initdb, start and stop each


class ClusterError(RuntimeError):
    """The cluster could not be made, started or stopped; the message is one line naming what is missing."""


def _binaries() -> Path:
    """The folder holding initdb, pg_ctl and postgres: PATH first, then Debian's versioned folders."""
    found = shutil.which("initdb")
    if found is not None:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if versions:
        return Path(versions[-1]).parent
    raise ClusterError("PostgreSQL's initdb is not installed: apt-get install postgresql (or `make postgres-setup`)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class Cluster:
    """One PostgreSQL server on loopback over a temporary data folder; start() and stop() may repeat (outages)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self._bin = _binaries()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise ClusterError(f"running as root needs the `{SUPERUSER}` user to run PostgreSQL") from None
            os.chown(root, account.pw_uid, account.pw_gid)
            self._as_user = ["runuser", "-u", SUPERUSER, "--"]

    @property
    def admin_url(self) -> str:
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/{database}"

    def init(self) -> None:
        self._run(
            [str(self._bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8"]
            + ["--locale=C", "--no-sync", "--no-instructions"],
            "initdb",
        )

    def start(self) -> None:
        options = f"{SERVER_OPTIONS} -p {self.port} -k {self.root}"
        self._run(
            [str(self._bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w"]
            + ["-t", str(STEP_TIMEOUT), "-o", options, "start"],
            "pg_ctl start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stops the server (`fast` rolls back open transactions and drops every connection)."""
        self._run(
            [str(self._bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", str(STEP_TIMEOUT), "-m", mode, "stop"],
            "pg_ctl stop",
        )

    def running(self) -> bool:
        status = subprocess.run(  # noqa: S603 - our own binary and folder
            [*self._as_user, str(self._bin / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        return status.returncode == 0

    def create_database(self, prefix: str = "t") -> str:
        """A fresh, empty database; returns its URL."""
        return create_database(self.admin_url, prefix)

    def psql(self, sql: str, database: str = "postgres") -> str:
        return psql(self.url(database), sql)

    def _run(self, command: Sequence[str], what: str) -> None:
        try:
            result = subprocess.run(  # noqa: S603 - our own binaries and folder
                [*self._as_user, *command], capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            raise ClusterError(f"{what} did not finish within {STEP_TIMEOUT}s") from None
        if result.returncode != 0:
            log = self.root / "server.log"
            detail = (result.stderr or result.stdout).strip().splitlines()
            tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
            raise ClusterError(f"{what} failed: {' | '.join(detail[-3:] + tail)}")


def psql(url: str, sql: str) -> str:
    """Runs `sql` on the database `url` names (psql of the installation initdb is from); its unaligned output."""
    binaries = _binaries()
    result = subprocess.run(  # noqa: S603 - psql from the same installation
        [str(binaries / "psql") if (binaries / "psql").exists() else "psql"]
        + ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise ClusterError(f"psql: {result.stderr.strip()}")
    return result.stdout


def create_database(admin_url: str, prefix: str = "t") -> str:
    """A fresh, empty database on the cluster `admin_url` reaches as its superuser (TWINAPI_TEST_POSTGRES_URL, say);
    returns its URL. Tests make one each, so that none sees another's rows."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    psql(admin_url, f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A started cluster, stopped and deleted when the block ends however it ends."""
    root = Path(tempfile.mkdtemp(prefix="twinapi-pg-"))
    try:
        cluster = Cluster(root)
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.running():
                cluster.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """`python -m twinapi_conformance.postgres -- CMD ...`: CMD's exit status, with a cluster around it."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: python -m twinapi_conformance.postgres -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    try:
        with throwaway_cluster() as cluster:
            env = {**os.environ, URL_VARIABLE: cluster.admin_url}
            return subprocess.run(args, env=env, check=False).returncode  # noqa: S603 - the caller's command
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
