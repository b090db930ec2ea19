"""The command line: extract, replay errors, and untrusted text in console output."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.console import ConsoleSink
from bot.cli import main
from bot.domain.alerts import Alert, AlertType, Severity

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def test_extract_prints_claims_and_statements_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(SEEDS / "002_2cd0230308c69816.txt"), "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["published"].startswith("2020-02-28")
    figures = record["figures"]
    killed = {(f["value"], f["attributed_to"]) for f in figures if f["metric"] == "killed"}
    assert (34, "Syrian Observatory for Human Rights") in killed
    for f in record["figures"]:
        assert f["sentence"] and f["end"] > f["start"]


def test_replay_reports_unreadable_input_and_processes_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(
        "At least 12 people were killed when a bus plunged into a ravine in Nepal on Monday, "
        "police said.\n",
        encoding="utf-8",
    )
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    code = main(["replay", str(folder), str(tmp_path / "missing"), "--db", db, "--format", "jsonl"])
    captured = capsys.readouterr()
    assert code == 1
    assert "photo.txt" in captured.err and "missing" in captured.err
    alerts = [json.loads(line) for line in captured.out.splitlines()]
    # The police speak as the institution of the country the story is about: a statement.
    assert [a["type"] for a in alerts] == ["new_story", "new_statement"]
    assert alerts[0]["value"] == 12
    assert alerts[1]["speaker"].lower() == "police"


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["replay"])
    assert exc.value.code == 2


async def test_console_output_never_interprets_article_text_as_markup() -> None:
    out = io.StringIO()
    sink = ConsoleSink("text", stream=out)
    hostile = "[bold red]@everyone[/bold red] [link=https://evil.example]click[/link] 5 killed"
    alert = Alert(
        type=AlertType.NEW_STORY,
        severity=Severity.HIGH,
        story_id="abc234",
        story_title=hostile,
        article_id="url:https://x.example/a",
        url="https://x.example/a",
        outlet="[red]Outlet[/red]",
        published=datetime(2024, 1, 1, tzinfo=UTC),
        summary=hostile,
        sentence=hostile,
    )
    await sink.publish([alert])
    text = out.getvalue()
    assert "[bold red]@everyone[/bold red]" in text
    assert "[red]Outlet[/red]" in text


DATA = Path(__file__).resolve().parent / "data" / "ingest"


def test_replay_reads_rss_and_atom_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'feeds.db'}"
    code = main(
        [
            "replay",
            str(DATA / "quake_rss.xml"),
            str(DATA / "ferry_atom.xml"),
            "--db",
            db,
            "--format",
            "jsonl",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1  # the RSS fixture holds two broken entries: reported, the rest ingested
    assert "has no content or summary text" in captured.err
    alerts = [json.loads(line) for line in captured.out.splitlines()]
    new_stories = [a for a in alerts if a["type"] == "new_story"]
    assert len({a["story"] for a in new_stories}) == len(new_stories) >= 2
    assert all(a["url"] and a["url"].startswith("http") for a in new_stories)


def test_replay_refuses_an_entity_bomb_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'bomb.db'}"
    assert main(["replay", str(DATA / "billion_laughs.xml"), "--db", db, "--format", "jsonl"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "entity" in captured.err.lower()


def test_unreadable_file_names_are_printed_as_text_not_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "[red]x.txt").write_bytes(b"")  # empty: unreadable, reported by name
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    assert main(["replay", str(folder), "--db", db, "--format", "jsonl"]) == 1
    assert "[red]x.txt" in capsys.readouterr().err


# -- errors at the command line: one line, exit 2, no traceback (issue 11: H9, H14, H15) --

ROOT = Path(__file__).resolve().parent.parent
DROP_CAPS = "-dac_override,-dac_read_search"


def run_cli(
    *args: str, env: dict[str, str] | None = None, prefix: Sequence[str] = (), code: str = ""
) -> subprocess.CompletedProcess[str]:
    """``claimwatch`` in a subprocess, with no CLAIMWATCH_* setting but those given.

    ``code`` runs first in the interpreter (e.g. to make a module missing)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
    clean.update(env or {})
    main_call = f"{code}\nfrom bot.cli import main\nraise SystemExit(main({list(args)!r}))"
    return subprocess.run(
        [*prefix, sys.executable, "-c", main_call],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_error_line(done: subprocess.CompletedProcess[str], *words: str) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def test_a_corrupt_database_is_one_error_line(tmp_path: Path) -> None:
    db = tmp_path / "junk.db"
    db.write_bytes(b"this is not a database\n" * 200)
    for command in (["migrate"], ["feeds", "list"], ["replay", str(SEEDS)]):
        done = run_cli(*command[:1], "--db", sqlite_url(db), *command[1:])
        assert_one_error_line(done, "not a SQLite database", str(db))


def test_a_database_from_a_newer_release_is_one_error_line(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    assert run_cli("migrate", "--db", sqlite_url(db)).returncode == 0
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999_from_the_future'")
        conn.commit()
    assert_one_error_line(
        run_cli("migrate", "--db", sqlite_url(db)), "0999_from_the_future", "newer"
    )


def test_a_locked_database_is_one_error_line(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    assert run_cli("migrate", "--db", sqlite_url(db)).returncode == 0
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")  # another writer, holding on (the bot waits 10 s)
        done = run_cli("feeds", "--db", sqlite_url(db), "add", "https://example.org/feed.xml")
        holder.execute("ROLLBACK")
    assert_one_error_line(done, "locked")


def test_a_read_only_database_is_one_error_line(tmp_path: Path) -> None:
    db = tmp_path / "ro.db"
    assert run_cli("migrate", "--db", sqlite_url(db)).returncode == 0
    prefix: list[str] = []
    if os.geteuid() == 0:  # root writes read-only files: run without that capability
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: nothing is read-only to root")
        prefix = [setpriv, f"--bounding-set={DROP_CAPS}", f"--inh-caps={DROP_CAPS}"]
    for path in tmp_path.iterdir():
        path.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        done = run_cli("replay", str(SEEDS), "--db", sqlite_url(db), prefix=prefix)
    finally:
        tmp_path.chmod(0o755)
    assert_one_error_line(done, "read-only")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("not a url at all", ["cannot read the database URL"]),
        ("mysql://u@127.0.0.1/x", ["unsupported database URL"]),
        ("postgresql://bot:hunter2@127.0.0.1:1/news", ["cannot connect", "127.0.0.1:1"]),
    ],
)
def test_a_bad_database_url_is_one_error_line(url: str, words: list[str]) -> None:
    line = assert_one_error_line(run_cli("migrate", "--db", url), *words)
    assert "hunter2" not in line


def test_a_missing_postgres_driver_is_one_error_line() -> None:
    # A None entry in sys.modules makes ``import asyncpg`` fail exactly like a missing one.
    done = run_cli(
        "migrate",
        "--db",
        "postgresql://bot@127.0.0.1:1/news",
        code="import sys\nsys.modules['asyncpg'] = None",
    )
    assert_one_error_line(done, "asyncpg is not installed", "claimwatch[postgres]")


@pytest.mark.parametrize(
    ("name", "value"),
    [("CLAIMWATCH_DROP_POLL_INTERVAL_S", "soon"), ("CLAIMWATCH_FEED_INTERVAL_S", "-5")],
)
def test_a_bad_environment_value_is_one_error_line(tmp_path: Path, name: str, value: str) -> None:
    env = {name: value, "CLAIMWATCH_DB_URL": sqlite_url(tmp_path / "x.db")}
    line = assert_one_error_line(run_cli("migrate", env=env), name)
    assert value not in line.split(":", 2)[-1] or value == "-5"  # values may be secrets


def test_a_drop_dir_that_is_a_file_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a folder", encoding="utf-8")
    env = {"CLAIMWATCH_DB_URL": sqlite_url(tmp_path / "x.db")}
    done = run_cli("run", "--drop-dir", str(tmp_path / "notes.txt"), env=env)
    assert_one_error_line(done, "is a file, not a folder")


def test_an_explicit_db_in_a_missing_folder_creates_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "dta" / "claimwatch.db"
    done = run_cli("migrate", "--db", sqlite_url(typo))
    assert_one_error_line(done, str(typo.parent), "does not exist")
    assert not typo.parent.exists()


def test_extract_on_a_fifo_says_so_instead_of_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "article.txt"
    os.mkfifo(fifo)
    assert_one_error_line(run_cli("extract", str(fifo)), "FIFO", "not a regular file")


def test_extract_on_a_folder_or_a_missing_file_is_one_error_line(tmp_path: Path) -> None:
    assert_one_error_line(run_cli("extract", str(tmp_path)), "is a folder", "replay")
    assert_one_error_line(run_cli("extract", str(tmp_path / "nope.txt")), "no such file")


def test_replay_of_a_fifo_among_files_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "trap.txt")
    done = run_cli(
        "replay",
        str(tmp_path / "trap.txt"),
        str(SEEDS / "002_2cd0230308c69816.txt"),
        "--db",
        sqlite_url(tmp_path / "x.db"),
        "--format",
        "jsonl",
    )
    assert done.returncode == 1  # the FIFO is reported, the article is replayed
    assert "FIFO" in done.stderr and "Traceback" not in done.stderr
    assert any(json.loads(line)["type"] == "new_story" for line in done.stdout.splitlines())


def test_a_drop_dir_with_a_symlinked_subfolder_is_refused_in_one_line(tmp_path: Path) -> None:
    drop, elsewhere = tmp_path / "drop", tmp_path / "elsewhere"
    drop.mkdir()
    elsewhere.mkdir()
    (drop / "failed").symlink_to(elsewhere, target_is_directory=True)
    env = {"CLAIMWATCH_DB_URL": sqlite_url(tmp_path / "x.db")}
    done = run_cli("run", "--drop-dir", str(drop), env=env)
    assert_one_error_line(done, "failed is a symbolic link", "refuses")
    assert list(elsewhere.iterdir()) == []
