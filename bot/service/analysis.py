"""The costly, pure part of an ingest — claims and fingerprint — run off the event loop.

Extraction is CPU-bound Python. Run inside the ingest coroutine, one long dropped file
froze polling, deliveries, ``/healthz`` and the chat heartbeats for 40 s. So it runs
elsewhere, in one of two ways:

- ``ProcessAnalyser`` (what ``claimwatch run`` uses): worker processes, with a time
  budget per article. A worker that runs past it is killed and replaced, and the article
  is stored without claims, with a warning: a bug or a hostile text costs that article's
  claims, never the bot. The price is a pickled copy of each article and its claims
  (tens of microseconds) and one more process.
- ``ThreadAnalyser``: a thread of this process (tests, embedding, or
  ``CLAIMWATCH_EXTRACT_PROCESSES=0``). The loop keeps running, since the interpreter
  switches threads every few milliseconds, but there is no budget: a regex holds the GIL
  for as long as it runs and a thread cannot be stopped. That is safe only because every
  extraction regex is linear and the text is bounded (``bot.extract.MAX_TEXT``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import BinaryIO, Protocol

from bot.domain.articles import Article
from bot.domain.claims import Extraction
from bot.extract import extract
from bot.stories.neardup import Fingerprint, fingerprint

log = logging.getLogger(__name__)

Extractor = Callable[[Article], Extraction]

LONG_TEXT = 50_000
"""Articles at least this long (characters) are logged when their extraction starts and
ends: news copy is a few thousand characters, so these are rare and worth a line."""

START_TIMEOUT_S = 120.0
"""How long a new worker may take to start (it imports the extractor; a loaded machine)."""


def extract_article(article: Article) -> Extraction:
    return extract(article.text, title=article.title)


@dataclass(frozen=True, slots=True)
class Analysis:
    extraction: Extraction
    fingerprint: Fingerprint
    failure: str | None = None
    """Why extraction failed (then ``extraction`` is empty): the article is still stored."""


def analyse(article: Article, extractor: Extractor = extract_article) -> Analysis:
    return Analysis(extractor(article), fingerprint(article.text))


class Analyser(Protocol):
    async def __call__(self, article: Article) -> Analysis: ...

    async def close(self) -> None: ...


class ThreadAnalyser:
    """Analysis in a thread of this process: off the loop, but without a time budget."""

    def __init__(self, extractor: Extractor = extract_article) -> None:
        self._extractor = extractor

    async def __call__(self, article: Article) -> Analysis:
        return await _logged(article, asyncio.to_thread(analyse, article, self._extractor))

    async def close(self) -> None:
        return None


class ProcessAnalyser:
    """Analysis in up to ``processes`` worker processes, ``timeout_s`` at most per article.

    Workers (``python -m bot.service.extract_worker``: a fresh interpreter that inherits
    nothing from the bot but its environment) start on first use and are reused; each
    reads pickled articles on its stdin and answers on its stdout. ``observe`` receives
    each extraction's duration.
    """

    def __init__(
        self,
        processes: int = 1,
        *,
        timeout_s: float = 30.0,
        observe: Callable[[float], None] | None = None,
    ) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self._timeout_s = timeout_s
        self._observe = observe
        self._slots = asyncio.Semaphore(processes)
        self._idle: list[_Worker] = []
        self._fallback = ThreadAnalyser()
        self._start_failed = False

    async def __call__(self, article: Article) -> Analysis:
        async with self._slots:
            worker = self._idle.pop() if self._idle else await self._start()
            if worker is None:
                return await self._fallback(article)
            started = time.perf_counter()
            try:
                result = await _logged(
                    article, asyncio.wait_for(worker.submit(article), self._timeout_s)
                )
            except TimeoutError:
                await worker.kill()
                return await _failed(
                    article,
                    f"it ran past its {self._timeout_s:g} s budget "
                    "(CLAIMWATCH_EXTRACT_TIMEOUT_S) and its worker was stopped",
                )
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                await worker.kill()
                return await _failed(article, f"its worker process died ({exc!r})")
            except BaseException:
                worker.kill_now()  # cancelled (shutdown): its answer would be read by no one
                raise
            if self._observe is not None:
                self._observe(time.perf_counter() - started)
            self._idle.append(worker)
            return result

    async def _start(self) -> _Worker | None:
        try:
            return await _Worker.start()
        except (OSError, EOFError, TimeoutError, pickle.UnpicklingError) as exc:
            if not self._start_failed:
                log.error(
                    "cannot start an extraction process (%r): extracting in a thread instead, "
                    "without a time budget",
                    exc,
                )
                self._start_failed = True
            return None

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for worker in idle:
            await worker.stop()


class _Worker:
    """One worker process. Messages are pickles, each preceded by its length (8 bytes)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        assert process.stdin is not None and process.stdout is not None
        self._stdin, self._stdout = process.stdin, process.stdout

    @classmethod
    async def start(cls) -> _Worker:
        """A started worker that has imported the extractor and said so."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_SOURCE_ROOT, env.get("PYTHONPATH")]))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.service.extract_worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        worker = cls(process)
        try:
            await asyncio.wait_for(worker._read(), START_TIMEOUT_S)
        except BaseException:
            worker.kill_now()
            raise
        return worker

    async def submit(self, article: Article) -> Analysis:
        self._stdin.write(frame(article))
        await self._stdin.drain()
        result = await self._read()
        if not isinstance(result, Analysis):
            raise pickle.UnpicklingError(f"a worker answered {type(result).__name__}")
        return result

    async def _read(self) -> object:
        size = int.from_bytes(await self._stdout.readexactly(_HEADER), "big")
        # The worker is our own process: its pickles are as trusted as this code.
        return pickle.loads(await self._stdout.readexactly(size))

    def kill_now(self) -> None:
        """SIGKILL, not waiting: the event loop reaps it."""
        if self._process.returncode is None:
            self._process.kill()

    async def kill(self) -> None:
        self.kill_now()
        await self._process.wait()

    async def stop(self) -> None:
        """Let it finish: end of input is its signal to exit."""
        self._stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), 5)
        except TimeoutError:
            await self.kill()


_HEADER = 8
_SOURCE_ROOT = str(Path(__file__).resolve().parent.parent.parent)
"""The folder holding the ``bot`` package, so that a worker imports this same code."""


def frame(message: object) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return len(body).to_bytes(_HEADER, "big") + body


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """A worker's life: analyse each article read from ``stdin`` until it ends."""
    busy = stopping = False

    def finish_then_stop(signum: int, frame_: FrameType | None) -> None:
        # SIGTERM also reaches workers when a service manager stops the whole group:
        # finish the article in hand (the bot is waiting for it), then exit.
        nonlocal stopping
        if not busy:
            raise SystemExit(0)
        stopping = True

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the bot, which stops us
    signal.signal(signal.SIGTERM, finish_then_stop)
    extract("")  # loads the extractor's patterns and word lists: not on an article's time
    try:
        _write(stdout, "ready")
        while not stopping:
            header = stdin.read(_HEADER)
            if len(header) < _HEADER:
                return  # the bot closed the pipe, or is gone
            size = int.from_bytes(header, "big")
            body = stdin.read(size)
            if len(body) < size:
                return  # gone in the middle of a message
            # The bot's own pickle of an Article (untrusted text inside is only data).
            article = pickle.loads(body)
            busy = True
            _write(stdout, analyse(article))
            busy = False
    except BrokenPipeError:
        return  # the bot is gone: nobody wants the answer


def _write(stdout: BinaryIO, message: object) -> None:
    stdout.write(frame(message))
    stdout.flush()


async def _logged(article: Article, work: Awaitable[Analysis]) -> Analysis:
    """Await ``work``, with a log line before and after when the article is long."""
    long = len(article.text) >= LONG_TEXT
    if long:
        log.info("extracting article %s (%d characters)", article.id, len(article.text))
    started = time.perf_counter()
    result = await work
    if long:
        log.info(
            "extracted article %s in %.2f s: %d figures, %d statements",
            article.id,
            time.perf_counter() - started,
            len(result.extraction.figures),
            len(result.extraction.statements),
        )
    return result


async def _failed(article: Article, why: str) -> Analysis:
    log.warning(
        "extraction of article %s (%d characters) failed: %s; stored without claims",
        article.id,
        len(article.text),
        why,
    )
    print_ = await asyncio.to_thread(fingerprint, article.text)
    return Analysis(Extraction(), print_, failure=why)
