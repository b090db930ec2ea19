"""A fast local feed server for the polling benchmarks, plus the news text it serves.

Why a separate *process*: the bot under test is one event loop on one core. A server
in the same process (even in a thread) would share that core and the GIL, so the
benchmark would measure the server as much as the bot. In its own process it has its
own core, and it reports its CPU time so the benchmark can show it was not the limit.

Why asyncio streams with HTTP/1.1 keep-alive: httpx reuses connections, and a server
that closed every connection would add a TCP handshake per poll that a real fleet of
servers (each with its own keep-alive connection) would not cost. Clients that send
``Connection: close`` (urllib, hence ``feedparser.parse(url)``) get it closed.

Content: ``n`` distinct RSS 2.0 feeds at ``/feeds/<i>.xml``, every body pre-generated
before the server reports ready (nothing is rendered while it is being timed). Each
feed has a stable ETag per version and honours ``If-None-Match`` (304, no body). In
round ``r`` a *changing* feed (by default every other one) serves version ``r`` — its
``new_per_round`` newest items are new — while a stable feed keeps serving version 1,
so in round 2 half of the polls are 304 and half are 200 with new items; from round
``rounds + 1`` on nothing changes any more (all 304). Items carry the full text in
``content:encoded`` (as many CMS feeds do), so the bot does not fetch article pages;
that is a different benchmark.

Control endpoints (not timed): ``/_round/<r>`` switches the round, ``/_stats`` returns
counters and the server's CPU seconds as JSON.

Run: ``python -m bench.feedserver --feeds N`` prints ``PORT <port>`` once ready and
serves until its stdin is closed (so it never outlives the benchmark that started it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from types import TracebackType
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
"""The checkout: ``python -m bench.…`` subprocesses run from here."""

# -- news text --------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SYLLABLES = _words(
    "ka lo mi ra to ne su vi de ba go ri an el or ul sa te mo ki za pe du ya ho li fa ro ve ni"
)
_TOWNS = len(_SYLLABLES) ** 3
_DAYS = _words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
_AGENCIES = (
    "police said",
    "officials said",
    "the civil defence agency said",
    "the regional governor said",
    "the health ministry said",
    "emergency services said",
    "the state news agency reported",
    "the fire brigade said",
)

_FIRST_NAMES = _words(
    "Amina Bilal Carmen Dario Elif Farid Grace Hamid Ines Jonas Kofi Leila Mateo Nadia Omar "
    "Priya Quang Rosa Samir Tariq Umaima Viktor Wanjiru Xiomara Yusuf Zainab Anders Beatriz "
    "Chidi Dmitri Esra Fumiko Goran Hana Ibrahim Jelena Kwame Lucia Mehmet Nkechi"
)
_LAST_NAMES = _words(
    "Abara Bakshi Castell Dlamini Eriksen Fofana Gutierrez Haddad Ilunga Jovanovic Kamau "
    "Lindqvist Mensah Nakamura Okafor Petrov Quispe Rahimi Santos Takahashi Uzor Varga Wekesa "
    "Xu Yilmaz Zapata Adeyemi Bergstrom Chaudhry Demir Estrada Farouk Gallo Hussain Ivanova "
    "Jaramillo Kowalski Lungu Moreau Nwosu"
)
# Closing sentences: {a} and {b} are made-up names, {who} a named official.
_CLOSINGS = (
    "{who} said the toll was likely to rise as crews reached {a} and {b}.",
    "Families gathered outside the {a} district hospital, where {who} appealed for calm.",
    "The road between {a} and {b} was closed while investigators worked at the scene.",
    "{who} said temporary shelters had been opened in schools in {a}.",
    "Soldiers from the {a} garrison joined volunteers digging by hand, {who} said.",
    "Neighbouring {a} sent ambulances and a team of surgeons overnight.",
    "{who} announced an inquiry and suspended two officials from {a}.",
    "Survivors were flown by helicopter to the regional capital, {a}.",
    "Relatives in {a} said they had received no news since the morning.",
    "The {a} Red Crescent said blood donations were urgently needed.",
    "Television footage from {a} showed crowds searching through debris.",
    "{who} of the {a} relief committee said food and water were running short.",
)
_ROLES = ("Mayor", "Governor", "Fire chief", "Police chief", "Dr", "Commissioner")

# (title, first sentence, follow-ups, victims): {n} is the death toll, {m} a second figure,
# {victims} one of the event's plausible victim groups. Different victims of the same kind
# of event are different incidents to the bot's grouping, which keeps stories apart.
_EVENTS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Bus plunges into ravine near {town}",
        "At least {n} {victims} were killed when their bus plunged off a mountain road near "
        "{town} in {region} on {day}, {agency}.",
        (
            "Another {m} people were injured and taken to hospital.",
            "The driver is believed to have lost control on a sharp bend in heavy rain.",
        ),
        ("pilgrims", "students", "tourists", "farmers", "fans", "workers"),
    ),
    (
        "Flash floods sweep through {town}",
        "Flash floods killed {n} {victims} in {town} after two days of torrential rain, "
        "{agency} on {day}.",
        (
            "More than {m} homes were submerged and thousands of residents moved to shelters.",
            "Forecasters warned that the river could burst its banks again overnight.",
        ),
        ("farmers", "students", "tourists", "fishermen", "patients", "prisoners"),
    ),
    (
        "Factory fire in {town} kills {victims}",
        "A fire at a garment factory in {town} killed {n} {victims} on {day}, {agency}.",
        (
            "{m} others were treated for burns and smoke inhalation.",
            "Witnesses said the emergency exits had been locked from the outside.",
        ),
        ("workers", "firefighters", "contractors"),
    ),
    (
        "Building collapses in {town}",
        "At least {n} {victims} died when a five-storey building collapsed in "
        "{town}, {region}, early on {day}, {agency}.",
        (
            "Rescuers pulled {m} survivors from the rubble through the night.",
            "The owner of the building was detained for questioning.",
        ),
        ("students", "patients", "worshippers", "shoppers", "workers", "prisoners"),
    ),
    (
        "Landslide buries camp outside {town}",
        "A landslide buried a camp outside {town} on {day}, killing {n} {victims}, {agency}.",
        (
            "Some {m} people are still missing under the mud.",
            "Heavy machinery could not reach the site because the road was cut.",
        ),
        ("miners", "hikers", "farmers", "soldiers", "pilgrims"),
    ),
    (
        "Boat capsizes off {town}",
        "A boat capsized off {town} on {day}, and the bodies of {n} {victims} have been "
        "recovered so far, {agency}.",
        (
            "The coast guard rescued {m} people from the water.",
            "Survivors said the vessel was overloaded with cargo.",
        ),
        ("migrants", "fishermen", "tourists", "pilgrims", "students"),
    ),
    (
        "Blast at chemical plant in {town}",
        "An explosion tore through a chemical plant in {town} on {day}, killing {n} "
        "{victims}, {agency}.",
        (
            "{m} people living nearby were taken to hospital with breathing problems.",
            "Investigators are examining a storage tank that caught fire before the blast.",
        ),
        ("employees", "firefighters", "contractors", "soldiers"),
    ),
    (
        "Train derails near {town}",
        "{n} {victims} were killed when a train derailed near {town} in {region} on "
        "{day}, {agency}.",
        (
            "Railway officials said {m} people were injured, several of them critically.",
            "Three carriages overturned after the train left the rails on a bridge.",
        ),
        ("passengers", "pilgrims", "soldiers", "fans", "tourists"),
    ),
    (
        "Cyclone batters coast around {town}",
        "The cyclone that made landfall near {town} on {day} has killed {n} {victims}, {agency}.",
        (
            "About {m} families lost their homes to winds and storm surge.",
            "Power and telephone lines remain down across much of {region}.",
        ),
        ("fishermen", "farmers", "tourists", "prisoners"),
    ),
    (
        "Tunnel collapse in {town}",
        "A tunnel collapse at a mine in {town} killed {n} {victims} on {day}, {agency}.",
        (
            "Rescue teams were trying to reach {m} men still trapped underground.",
            "The mine had been fined twice last year for safety violations.",
        ),
        ("miners", "rescuers", "contractors"),
    ),
    (
        "Earthquake strikes {region} near {town}",
        "A magnitude 6.1 earthquake near {town} killed at least {n} {victims} on {day}, {agency}.",
        (
            "Around {m} people were injured and hundreds of buildings damaged.",
            "Aftershocks kept residents sleeping outdoors in the cold.",
        ),
        ("students", "worshippers", "patients", "prisoners", "tourists", "farmers"),
    ),
    (
        "Heatwave deaths rise in {town}",
        "The heatwave has killed {n} {victims} in {town} since the weekend, {agency} on {day}.",
        (
            "Hospitals reported {m} admissions for heatstroke in a single day.",
            "Schools were closed and outdoor work banned in the afternoon.",
        ),
        ("pilgrims", "labourers", "farmers", "patients", "prisoners"),
    ),
)


def town(k: int) -> str:
    """A made-up one-word place name, distinct for each ``k`` modulo 27,000.

    Made-up words are unknown to the word-frequency list, so they weigh like rare place
    names do in the bot's grouping, and no two towns share a word (a shared "North" or
    "-haven" would be taken for a shared place).
    """
    k = (k * 7_919) % _TOWNS  # scramble, so that neighbouring k do not share syllables
    n = len(_SYLLABLES)
    name = _SYLLABLES[k % n] + _SYLLABLES[(k // n) % n] + _SYLLABLES[k // (n * n)]
    return name.capitalize()


@dataclass(frozen=True, slots=True)
class NewsItem:
    title: str
    text: str
    """Three sentences: a death toll, a second figure or a detail, a closing line."""


def news_item(k: int, *, rng: random.Random | None = None) -> NewsItem:
    """A realistic short disaster report; ``k`` picks the place and kind of event.

    Different ``k`` give different towns (a name is the strongest grouping signal) and
    cycle through the event kinds, so two items rarely read as the same story.
    """
    rng = rng or random.Random(k)
    title, first, rest, victims = _EVENTS[k % len(_EVENTS)]
    who = f"{rng.choice(_ROLES)} {rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    closing = rng.choice(_CLOSINGS).format(
        who=who, a=town(rng.randrange(_TOWNS)), b=town(rng.randrange(_TOWNS))
    )
    values = {
        "town": town(k),
        "region": town(k + 13_500) + " province",
        "day": _DAYS[k % len(_DAYS)],
        "agency": _AGENCIES[(k // 3) % len(_AGENCIES)],
        "n": str(rng.randrange(3, 90)),
        "m": str(rng.randrange(10, 400)),
        "victims": victims[(k // len(_EVENTS)) % len(victims)],
    }
    sentences = [first, rng.choice(rest), closing]
    text = " ".join(s.format(**values) for s in sentences)
    text = text[0].upper() + text[1:]
    return NewsItem(title.format(**values), text)


# -- feeds ------------------------------------------------------------------------------

_EPOCH = datetime(2024, 5, 6, 6, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FeedSpec:
    feeds: int
    items: int = 7
    """Items in each feed body (5–10 keeps it realistic)."""
    new_per_round: int = 2
    rounds: int = 2
    """Versions pre-generated for changing feeds (round r serves version r)."""
    change_every: int = 2
    """Every ``change_every``-th feed changes each round (2: half of them); the rest
    answer 304 from round 2 on."""


def changes(feed: int, spec: FeedSpec) -> bool:
    """Whether ``feed`` gets new items each round (every ``change_every``-th feed)."""
    return feed % spec.change_every == 0


def _item_key(feed: int, seq: int) -> int:
    # Distinct towns for the first 540 feeds; beyond that towns repeat, but with other
    # event kinds, victims and figures, as real places do.
    return feed * 50 + seq


def render_feed(spec: FeedSpec, feed: int, version: int, base_url: str) -> bytes:
    """RSS 2.0 bytes of ``feed`` at ``version``: the newest ``spec.items`` items."""
    newest = spec.items + (version - 1) * spec.new_per_round  # items ever published
    entries = []
    for seq in range(newest - 1, newest - 1 - spec.items, -1):
        item = news_item(_item_key(feed, seq), rng=random.Random(feed * 100_003 + seq))
        when = _EPOCH + timedelta(minutes=37 * seq + feed % 60)
        link = f"{base_url}/story/{feed}/{seq}"
        entries.append(
            "<item>"
            f"<title>{escape(item.title)}</title>"
            f"<link>{link}</link>"
            f'<guid isPermaLink="false">bench-{feed}-{seq}</guid>'
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(item.text.split('. ')[0])}.</description>"
            f"<content:encoded><![CDATA[<p>{escape(item.text)}</p>]]></content:encoded>"
            "</item>"
        )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Bench Outlet {feed}</title><link>{base_url}/</link>"
        f"<description>Regional news {feed}</description>"
        f"{''.join(entries)}</channel></rss>"
    )
    return xml.encode("utf-8")


def feed_path(feed: int) -> str:
    return f"/feeds/{feed}.xml"


def feed_index(url: str) -> int:
    """The feed number in a URL made by :func:`feed_path`."""
    return int(url.rsplit("/", 1)[1].removesuffix(".xml"))


def etag(feed: int, version: int) -> str:
    """The (quoted) ETag the server sends for ``feed`` at ``version``."""
    return f'"f{feed}-v{version}"'


def served_version(feed: int, round_: int, spec: FeedSpec) -> int:
    """The version of ``feed`` served in round ``round_``: stable feeds stay at 1."""
    return min(round_, spec.rounds) if changes(feed, spec) else 1


# -- server -----------------------------------------------------------------------------


@dataclass
class _Stats:
    requests: int = 0
    """Feed requests (control paths are not counted)."""
    ok: int = 0
    not_modified: int = 0
    not_found: int = 0
    """Anything but a feed or a control path (e.g. an article page): should stay 0."""
    connections: int = 0
    open_connections: int = 0
    max_open_connections: int = 0


class FeedServer:
    """The keep-alive HTTP/1.1 server over pre-rendered bodies (runs in its own process)."""

    def __init__(self, spec: FeedSpec, host: str = "127.0.0.1") -> None:
        self.spec = spec
        self.host = host
        self.port = 0
        self.round = 1
        self.stats = _Stats()
        # (feed, version) -> (etag, full response head + body): nothing is built per request.
        self._responses: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, self.host, 0, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        base = f"http://{self.host}:{self.port}"
        for feed in range(self.spec.feeds):
            versions = range(1, self.spec.rounds + 1) if changes(feed, self.spec) else (1,)
            for version in versions:
                body = render_feed(self.spec, feed, version, base)
                tag = etag(feed, version).encode()
                head = (
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
                    b"ETag: " + tag + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
                )
                self._responses[(feed, version)] = (tag, head + b"\r\n" + body)

    async def serve_until_closed(self) -> None:
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    def _respond(self, path: str, if_none_match: str | None) -> bytes:
        """The complete response (head and body) for a GET of ``path``."""
        if path.startswith("/feeds/") and path.endswith(".xml"):
            try:
                feed = int(path[7:-4])
            except ValueError:
                feed = -1
            found = self._responses.get((feed, served_version(feed, self.round, self.spec)))
            if found is not None:
                tag, response = found
                self.stats.requests += 1
                if if_none_match is not None and if_none_match.encode() == tag:
                    self.stats.not_modified += 1
                    return b"HTTP/1.1 304 Not Modified\r\nETag: " + tag + b"\r\n\r\n"
                self.stats.ok += 1
                return response
        if path.startswith("/_round/"):
            self.round = int(path.rsplit("/", 1)[1])
            return _text(f"round {self.round}")
        if path == "/_stats":
            stats = {
                **self.stats.__dict__,
                "cpu_s": time.process_time(),
                "round": self.round,
                "feeds": self.spec.feeds,
            }
            return _text(json.dumps(stats), "application/json")
        self.stats.not_found += 1
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats = self.stats
        stats.connections += 1
        stats.open_connections += 1
        stats.max_open_connections = max(stats.max_open_connections, stats.open_connections)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _method, path, _version = lines[0].split(" ", 2)
                if_none_match: str | None = None
                close = False
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    name = name.strip().lower()
                    if name == "if-none-match":
                        if_none_match = value.strip()
                    elif name == "connection" and value.strip().lower() == "close":
                        close = True
                writer.write(self._respond(path, if_none_match))
                await writer.drain()
                if close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            stats.open_connections -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def _text(body: str, kind: str = "text/plain") -> bytes:
    data = body.encode()
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        + data
    )


async def _serve(spec: FeedSpec) -> None:
    server = FeedServer(spec)
    await server.start()
    loop = asyncio.get_running_loop()
    stdin_closed = loop.create_future()

    def watch_stdin() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the parent is done (or gone)
        loop.call_soon_threadsafe(stdin_closed.set_result, None)

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"PORT {server.port}", flush=True)
    serving = asyncio.create_task(server.serve_until_closed())
    await stdin_closed
    serving.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await serving


# -- client side: the benchmark's handle on the server process ---------------------------


class FeedServerProcess:
    """Starts ``python -m bench.feedserver`` and talks to its control endpoints."""

    def __init__(self, spec: FeedSpec) -> None:
        self.spec = spec
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        cmd = [
            sys.executable,
            "-m",
            "bench.feedserver",
            "--feeds",
            str(self.spec.feeds),
            "--items",
            str(self.spec.items),
            "--new-per-round",
            str(self.spec.new_per_round),
            "--rounds",
            str(self.spec.rounds),
            "--change-every",
            str(self.spec.change_every),
        ]
        self._proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().decode().strip()
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"feed server did not start (said {line!r})")
        self.port = int(line.split()[1])
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()  # the server exits at EOF
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def feed_urls(self) -> list[str]:
        return [self.url(feed_path(i)) for i in range(self.spec.feeds)]

    def _get(self, path: str) -> bytes:
        # A direct opener: environment proxies must never see a 127.0.0.1 request.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(self.url(path), timeout=10) as response:
            data: bytes = response.read()
            return data

    def set_round(self, r: int) -> None:
        self._get(f"/_round/{r}")

    def stats(self) -> dict[str, float]:
        data: dict[str, float] = json.loads(self._get("/_stats"))
        return data


def main() -> int:
    p = argparse.ArgumentParser(prog="bench.feedserver")
    p.add_argument("--feeds", type=int, required=True)
    p.add_argument("--items", type=int, default=7)
    p.add_argument("--new-per-round", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--change-every", type=int, default=2)
    args = p.parse_args()
    spec = FeedSpec(args.feeds, args.items, args.new_per_round, args.rounds, args.change_every)
    asyncio.run(_serve(spec))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
