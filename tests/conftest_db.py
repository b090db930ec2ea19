"""Database fixtures: real SQLite files and a throwaway PostgreSQL cluster (no mocks).

Register with ``pytest_plugins = ["tests.conftest_db"]`` in ``tests/conftest.py``
(or ``-p tests.conftest_db``).

Fixtures:

* ``sqlite_url`` – a fresh SQLite file in ``tmp_path``.
* ``pg_cluster`` / ``pg_url`` – a PostgreSQL 15 cluster started once per session
  from Debian's binaries (``initdb`` + ``pg_ctl start`` as the ``postgres`` OS user
  when we are root), on 127.0.0.1 and a free port, with durability off for speed;
  stopped (and its files removed) at the end of the session, whatever happened.
  Missing binaries skip PostgreSQL tests, unless ``CLAIMWATCH_REQUIRE_PG=1``.
* ``db_url`` – parametrised over the backends (ids ``sqlite``, ``postgres``); for
  PostgreSQL each test gets its own ``CREATE DATABASE``. ``CLAIMWATCH_TEST_DB`` =
  ``sqlite`` | ``postgres`` | ``both`` chooses the backends (default: ``both`` when
  the PostgreSQL binaries exist, else ``sqlite``).
* ``engine`` – an ``AsyncEngine`` on ``db_url``, migrated to head.
* ``uow_factory`` – ``storage.uow.make_uow_factory(engine)``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWork, make_uow_factory

PG_BIN = Path(os.environ.get("CLAIMWATCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_REQUIRED = os.environ.get("CLAIMWATCH_REQUIRE_PG") == "1"


def _pg_available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


def _backends() -> list[str]:
    choice = os.environ.get("CLAIMWATCH_TEST_DB", "").strip().lower()
    if choice in ("sqlite", "postgres"):
        return [choice]
    if choice == "both" or (choice == "" and (_pg_available() or PG_REQUIRED)):
        return ["sqlite", "postgres"]
    if choice == "":
        return ["sqlite"]
    raise pytest.UsageError(f"CLAIMWATCH_TEST_DB must be sqlite, postgres or both, not {choice!r}")


def _unavailable(reason: str) -> NoReturn:
    if PG_REQUIRED:
        pytest.fail(f"PostgreSQL required (CLAIMWATCH_REQUIRE_PG=1) but {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason} (install Debian's postgresql package)")


@dataclass
class PgCluster:
    """A running throwaway cluster; ``url(db)`` addresses one of its databases."""

    host: str
    port: int
    root: Path
    as_postgres: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_postgres, *args], check=check, capture_output=True, text=True, timeout=60
        )

    def client(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(
            str(PG_BIN / tool), "-h", self.host, "-p", str(self.port), "-U", "postgres", *args
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_cluster() -> tuple[PgCluster, Callable[[], None]]:
    if not _pg_available():
        _unavailable(f"no initdb/pg_ctl in {PG_BIN}")
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: run the server as the postgres OS user.
        runuser = shutil.which("runuser")
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("we are root and there is no 'postgres' OS user to run the server")
        if runuser is None:
            _unavailable("we are root and 'runuser' is missing")
        as_postgres = [runuser, "-u", "postgres", "--"]
    # Not under pytest's tmp dirs: those are root-only (0700) and postgres must enter.
    root = Path(tempfile.mkdtemp(prefix="claimwatch-pg-"))
    if as_postgres:
        os.chown(root, pw.pw_uid, pw.pw_gid)
    data = root / "data"
    cluster = PgCluster("127.0.0.1", 0, root, as_postgres)
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if stopped:
            return
        stopped = True
        if (data / "postmaster.pid").exists():
            result = cluster.run(
                str(PG_BIN / "pg_ctl"),
                "stop",
                "-D",
                str(data),
                "-m",
                "immediate",
                "-w",
                check=False,
            )
            if result.returncode != 0:
                _kill_postmaster(data)
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)  # even if the session is interrupted before fixture teardown
    try:
        cluster.run(
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        last_error = ""
        for _ in range(5):  # another process may grab the free port first: retry
            cluster.port = _free_port()
            options = (
                f"-h {cluster.host} -p {cluster.port} -k {root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200"
            )
            result = cluster.run(
                str(PG_BIN / "pg_ctl"),
                "start",
                "-D",
                str(data),
                "-l",
                str(root / "log"),
                "-w",
                "-t",
                "30",
                "-o",
                options,
                check=False,
            )
            if result.returncode == 0:
                return cluster, stop
            log = root / "log"
            last_error = result.stderr + (log.read_text() if log.exists() else "")
        raise RuntimeError(f"could not start PostgreSQL:\n{last_error}")
    except BaseException:
        stop()
        raise


def _kill_postmaster(data: Path) -> None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster, stop = _start_cluster()
    try:
        yield cluster
    finally:
        stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, empty database in the session's cluster, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    pg_cluster.client("createdb", name)
    try:
        yield pg_cluster.url(name)
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            pg_cluster.client("dropdb", "--force", "--if-exists", name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'claimwatch.db'}"


@pytest.fixture(params=_backends())
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each backend under test."""
    name = "pg_url" if request.param == "postgres" else "sqlite_url"
    url = request.getfixturevalue(name)
    assert isinstance(url, str)
    return url


@pytest_asyncio.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database migrated to the newest revision."""
    eng = create_engine(db_url)
    try:
        await upgrade(eng)
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def uow_factory(engine: AsyncEngine) -> Callable[[], SqlUnitOfWork]:
    return make_uow_factory(engine)
