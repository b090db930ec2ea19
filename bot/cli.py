"""The ``claimwatch`` command line: run, feeds, replay, extract, demo, migrate.

Parses arguments and delegates: reading to ``bot.ingest``, wiring to
``bot.bootstrap``, the work to the message bus. Exit codes: 0 ok, 1 some input
could not be read (the rest was processed), 2 usage or configuration error (a bad
setting, a database or drop folder that cannot be used): one ``error:`` line, no
traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import stat
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from bot.config import Settings
from bot.domain.articles import Article
from bot.domain.claims import Extraction
from bot.domain.feeds import Feed
from bot.ingest.files import file_kind
from bot.ingest.readers import read_path
from bot.logs import configure_logging
from bot.service.replay import replay_commands

err = Console(stderr=True, highlight=False)


def _read_all(paths: Sequence[Path]) -> tuple[list[Article], int]:
    """Read every path; report what cannot be read and go on with the rest."""
    articles: list[Article] = []
    failures = 0
    for path in paths:
        result = read_path(path)  # never raises: what it cannot read comes back as errors
        articles.extend(result.articles)
        for e in result.errors:
            # File names and messages are untrusted text: never let rich parse them.
            err.print(Text.assemble(("skipped: ", "yellow"), str(e)))
            failures += 1
    return articles, failures


async def _replay(
    paths: Sequence[Path], db_url: str | None, fmt: str, settings: Settings, explain: bool = False
) -> int:
    from bot.bootstrap import build_app, console_sink
    from bot.stories.explain import explain_line

    articles, failures = _read_all(paths)
    sink = console_sink("jsonl" if fmt == "jsonl" else "text")
    app = await build_app(settings, db_url=db_url, sinks=[sink])
    try:
        for command in replay_commands(articles):
            result = await app.bus.handle(command)
            if explain:
                # After the article's alerts; on stderr when stdout is a JSON Lines stream.
                line = explain_line(result.article_id, command.article.title, result.grouping)
                (sys.stderr if fmt == "jsonl" else sys.stdout).write(line + "\n")
    finally:
        await app.close()
    if fmt != "jsonl":
        err.print(f"{len(articles)} article(s) read, {sink.count} new alert(s)")
    return 1 if failures else 0


def _extraction_record(article: Article, extraction: Extraction) -> dict[str, object]:
    return {
        "article": article.id,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "figures": [
            {
                "metric": f.metric.value,
                "subject": f.subject,
                "subject_group": f.subject_group,
                "value": f.quantity.value,
                "high": f.quantity.high,
                "qualifier": f.quantity.qualifier.value,
                "text": f.quantity.display(),
                "scope": f.scope.key,
                "temporal": f.temporal.value,
                "attributed_to": f.attributed_to,
                "attributed_role": f.attributed_role,
                "framed_as_update": f.framed_as_update,
                "sentence": f.evidence.sentence,
                "start": f.evidence.start,
                "end": f.evidence.end,
            }
            for f in extraction.figures
        ],
        "statements": [
            {
                "speaker": s.speaker,
                "role": s.role,
                "verb": s.verb,
                "text": s.text,
                "direct": s.direct,
                "official": s.official,
                "aliases": list(s.aliases),
                "sentence": s.evidence.sentence,
                "start": s.evidence.start,
                "end": s.evidence.end,
            }
            for s in extraction.statements
        ],
    }


def _error(message: str) -> int:
    """One ``error:`` line (never wrapped, never read as markup) and exit code 2."""
    err.print(Text.assemble(("error: ", "red"), message), soft_wrap=True)
    return 2


def _settings_problem(exc: ValidationError) -> str:
    """The settings that are wrong, by their variable names; never their values (secrets)."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        name = "CLAIMWATCH_" + "_".join(str(part) for part in error["loc"]).upper()
        problems.append(f"{name}: {error['msg']}")
    return "bad setting " + "; ".join(problems) + " (see .env.example)"


def _not_one_file(path: Path) -> str | None:
    """Why ``path`` cannot be extracted from (a folder, a FIFO, missing), or None."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return f"{path}: no such file"
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    if stat.S_ISDIR(mode):
        return f"{path} is a folder; extract reads one article file (replay reads folders)"
    if not stat.S_ISREG(mode):
        return f"{path} is {file_kind(mode)}, not a regular file"
    return None


def _extract(path: Path) -> int:
    from bot.service.ingest import extract_article

    problem = _not_one_file(path)
    if problem is not None:
        return _error(problem)
    articles, failures = _read_all([path])
    records = [_extraction_record(a, extract_article(a)) for a in articles]
    out = records[0] if len(records) == 1 else records
    sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    return 1 if failures or not articles else 0


async def _demo(settings: Settings, fmt: str) -> int:
    out = Console(highlight=False)
    seeds = settings.seeds_dir
    if fmt != "jsonl":
        out.rule("claimwatch demo")
        out.print(f"Replaying the demo articles in {seeds} into a fresh SQLite database.\n")
    with tempfile.TemporaryDirectory(prefix="claimwatch-demo-") as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        code = await _replay([seeds], db_url, fmt, settings)
        if fmt != "jsonl":
            from bot.bootstrap import build_app
            from bot.service.queries import story_overviews

            app = await build_app(settings, db_url=db_url, migrate=False)
            try:
                async with app.uow_factory() as uow:
                    overviews = await story_overviews(uow)
            finally:
                await app.close()
            out.rule("where the stories stand")
            for o in overviews:
                out.print(o.render_text(), markup=False)
    return code


async def _migrate(settings: Settings, db_url: str | None) -> int:
    from bot.bootstrap import build_app

    app = await build_app(settings, db_url=db_url, migrate=True)
    await app.close()
    err.print("database is at the latest schema")
    return 0


async def _run(settings: Settings, db_url: str | None, fmt: str) -> int:
    import signal

    from bot.bootstrap import (
        build_app,
        build_runner,
        console_sink,
        feed_catalog,
        subscribe_webhooks,
    )
    from bot.config import chat_problems
    from bot.service.catalog import FeedCommandError

    problems = chat_problems(settings)
    if problems:
        err.print(Text("error: cannot start; fix these settings (see .env.example):", "red"))
        for problem in problems:
            err.print(Text(f"  - {problem}"))
        return 2
    sinks = [console_sink("jsonl" if fmt == "jsonl" else "text")]
    if "console" not in settings.adapter_names:
        sinks = []
    app = await build_app(settings, db_url=db_url, sinks=sinks)
    try:
        running = build_runner(settings, app)
    except BaseException:
        await app.close()  # e.g. a drop folder that cannot be used
        raise
    try:
        if running.chat is not None:
            await running.chat.open()
        if running.chat is not None and running.chat.webhooks:
            await subscribe_webhooks(settings, app, running.chat)
        if settings.feeds_file is not None:
            try:
                loaded = await feed_catalog(settings, app).load_file(settings.feeds_file)
            except FeedCommandError as exc:
                err.print(Text.assemble(("error: ", "red"), str(exc)))
                return 2
            err.print(f"{len(loaded)} feed(s) from {settings.feeds_file}")
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, running.runner.stop)
        where = f", drop folder {running.drop.root}" if running.drop else ""
        err.print(Text(f"claimwatch running as {settings.role}{where}; Ctrl-C stops"))
        await running.runner.run()
    finally:
        await running.close()
        await app.close()
    return 0


async def _feeds(settings: Settings, args: argparse.Namespace) -> int:
    from bot.bootstrap import build_app, feed_catalog
    from bot.service.catalog import FeedCommandError, health_line

    app = await build_app(settings, db_url=args.db_url)
    catalog = feed_catalog(settings, app)
    out = Console(highlight=False)
    try:
        if args.action == "add":
            tags = [t for t in (args.tags or "").split(",") if t.strip()]
            feed = await catalog.add(
                args.url, interval_s=args.interval, name=args.name, tags=tags, added_by="cli"
            )
            every = feed.interval.total_seconds()
            out.print(Text(f"added {feed.id} {feed.url} (every {every:g}s)"))
        elif args.action == "list":
            feeds = await catalog.all()
            if args.format == "json":
                sys.stdout.write(json.dumps([_feed_record(f) for f in feeds], indent=2) + "\n")
            elif not feeds:
                out.print("no feeds; add one with `claimwatch feeds add URL`")
            for feed in feeds if args.format != "json" else []:
                out.print(Text(f"{feed.name}  <{feed.url}>", style="bold"))
                out.print(Text("  " + health_line(feed)), soft_wrap=True)
        else:
            action = {"remove": catalog.remove, "pause": catalog.pause, "resume": catalog.resume}
            feed = await action[args.action](args.ref)
            past = {"remove": "removed", "pause": "paused", "resume": "resumed"}[args.action]
            out.print(Text(f"{past} {feed.id} {feed.url}"))
    except FeedCommandError as exc:
        err.print(Text.assemble(("error: ", "red"), str(exc)))
        return 1
    finally:
        await app.close()
    return 0


def _feed_record(feed: Feed) -> dict[str, object]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": feed.id,
        "url": feed.url,
        "name": feed.name,
        "tags": list(feed.tags),
        "interval_s": feed.interval.total_seconds(),
        "state": feed.state.value,
        "failures": feed.failures,
        "items_seen": feed.items_seen,
        "polls": feed.polls,
        "items_deferred": feed.items_deferred,
        "items_passed_over": feed.items_passed_over,
        "entries_skipped": feed.entries_skipped,
        "last_success_at": iso(feed.last_success_at),
        "last_error": feed.last_error,
        "last_error_at": iso(feed.last_error_at),
        "next_poll_at": iso(feed.next_poll_at),
        "added_at": iso(feed.added_at),
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="claimwatch", description=__doc__.splitlines()[0] if __doc__ else None
    )
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser(
        "replay", help="feed articles (folders, files, RSS/Atom files) through the pipeline"
    )
    r.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    r.add_argument(
        "--db", dest="db_url", help="database URL (default: CLAIMWATCH_DB_URL or ./claimwatch.db)"
    )
    r.add_argument("--format", choices=["text", "jsonl"], default="text")
    r.add_argument(
        "--explain",
        action="store_true",
        help="print, for each article, the story it joined or started and why",
    )

    e = sub.add_parser("extract", help="print the claims and statements of one article")
    e.add_argument("file", type=Path)
    e.add_argument("--format", choices=["json"], default="json")

    d = sub.add_parser(
        "demo", help="replay the demo articles into a fresh database; no token needed"
    )
    d.add_argument("--format", choices=["text", "jsonl"], default="text")

    m = sub.add_parser("migrate", help="bring the database schema up to date")
    m.add_argument("--db", dest="db_url")

    run = sub.add_parser(
        "run", help="run the bot: poll feeds, watch the drop folder, print alerts as they happen"
    )
    run.add_argument("--db", dest="db_url")
    run.add_argument("--format", choices=["text", "jsonl"], default="text")
    run.add_argument("--drop-dir", type=Path, help="watch this folder (CLAIMWATCH_DROP_DIR)")
    run.add_argument("--feeds-file", type=Path, help="TOML feeds to add (CLAIMWATCH_FEEDS_FILE)")
    run.add_argument(
        "--role",
        choices=["all", "worker", "gateway"],
        help="all (default): everything in one process; worker: feeds, drop folder and "
        "delivery; gateway: the chat connections and commands (CLAIMWATCH_ROLE)",
    )

    f = sub.add_parser("feeds", help="manage the polled feeds")
    f.add_argument("--db", dest="db_url")
    fsub = f.add_subparsers(dest="action", required=True)
    fa = fsub.add_parser("add", help="watch a feed (its current items are stored without alerts)")
    fa.add_argument("url")
    fa.add_argument("--interval", type=float, help="seconds between polls")
    fa.add_argument("--name")
    fa.add_argument("--tags", help="comma-separated")
    fl = fsub.add_parser("list", help="feeds with their health")
    fl.add_argument("--format", choices=["text", "json"], default="text")
    for action, text in (
        ("remove", "stop watching a feed (its articles stay)"),
        ("pause", "stop polling a feed for now"),
        ("resume", "poll a paused or disabled feed again"),
    ):
        fsub.add_parser(action, help=text).add_argument("ref", help="feed id (f-…) or URL")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        return _error(_settings_problem(exc))
    configure_logging(settings)
    # These log request URLs, and webhook URLs (Discord's, Slack's) *are* secrets; the
    # scheduler logs every tick. Their warnings still come through.
    for noisy in ("httpx", "httpcore", "apscheduler", "slack_sdk", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.root.level))
    # "Execution of job … skipped: maximum number of running instances reached" is a
    # tick finding the previous one still busy, which is how the runner means it.
    logging.getLogger("apscheduler.scheduler").setLevel(max(logging.ERROR, logging.root.level))
    try:
        return _dispatch(args, settings)
    except Exception as exc:
        # A database or drop folder that cannot be used is a configuration problem: one
        # line and exit 2. Anything else is a bug, and its traceback is worth having.
        from bot.bootstrap import describe_startup_error

        message = describe_startup_error(exc, getattr(args, "db_url", None) or settings.db_url)
        if message is None:
            raise
        return _error(message)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "replay":
        return asyncio.run(_replay(args.paths, args.db_url, args.format, settings, args.explain))
    if args.command == "extract":
        return _extract(args.file)
    if args.command == "demo":
        return asyncio.run(_demo(settings, args.format))
    if args.command == "migrate":
        return asyncio.run(_migrate(settings, args.db_url))
    if args.command == "run":
        overrides: dict[str, object] = {}
        if args.drop_dir is not None:
            overrides["drop_dir"] = args.drop_dir
        if args.feeds_file is not None:
            overrides["feeds_file"] = args.feeds_file
        if args.role is not None:
            overrides["role"] = args.role
        settings = settings.model_copy(update=overrides)
        return asyncio.run(_run(settings, args.db_url, args.format))
    if args.command == "feeds":
        return asyncio.run(_feeds(settings, args))
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
