"""read_feed on real RSS/Atom bytes: entries, encodings, malformed XML, hostile XML."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.ingest import FeedReadError, read_feed, read_path

DATA = Path(__file__).resolve().parent / "data" / "ingest"
FAST = 0.5  # seconds; expat took 1.5 s and 91 MB on a billion-laughs feed


def feed_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_rss_entries_become_articles() -> None:
    feed = read_feed(feed_bytes("quake_rss.xml"), feed_url="https://www.andesdaily.example/rss")
    assert feed.title == "Andes Daily News"
    assert feed.outlet == "Andes Daily News"
    assert feed.bozo_reason is None
    quake, aftershocks = feed.items

    assert quake.article.id == "guid:andes-2024-0412-quake"  # guid beats link
    assert (
        quake.link
        == "https://www.andesdaily.example/world/quake-peru?utm_source=rss&utm_medium=feed"
    )
    assert quake.article.title == "Magnitude 7.1 earthquake strikes southern Peru"
    assert quake.article.published == datetime(2024, 4, 12, 11, 45, tzinfo=UTC)
    assert quake.article.outlet == "Andes Daily News"
    assert quake.article.source == "feed:https://www.andesdaily.example/rss"
    assert not quake.summary_only  # content:encoded preferred over description
    assert quake.article.text.startswith("A magnitude 7.1 earthquake struck southern Peru")
    assert "President Ana Torres" in quake.article.text
    assert "Read more" not in quake.article.text
    assert "Rescuers search rubble" not in quake.article.text  # figure caption

    assert aftershocks.summary_only
    assert aftershocks.article.id == "url:https://www.andesdaily.example/world/aftershocks"
    assert aftershocks.article.text == (
        "More than 40 aftershocks were recorded in the hours after the main quake, officials said."
    )
    assert feed.articles == [quake.article, aftershocks.article]


def test_rss_entries_that_cannot_be_articles_are_reported_not_raised() -> None:
    feed = read_feed(feed_bytes("quake_rss.xml"))
    no_text, no_identity = feed.errors
    assert "entry 2 ('Power restored in Arequipa') has no content or summary text" in str(no_text)
    assert no_text.link == "https://www.andesdaily.example/world/power-restored"  # fetch it later
    assert "has neither a guid nor a link" in str(no_identity)


def test_atom_content_and_summary_only_entries() -> None:
    feed = read_feed(feed_bytes("ferry_atom.xml"))
    assert feed.outlet == "Island Courier"
    sinks, search = feed.items
    assert sinks.article.id == "guid:urn:uuid:5b1f0e9e-62c1-4e43-9b57-1c2e7f9a0002"
    assert sinks.link == "https://islandcourier.example/2023/07/ferry-sinks"
    assert sinks.article.published == datetime(2023, 7, 1, 14, 15, tzinfo=UTC)  # <published>
    assert not sinks.summary_only
    # the headline repeated as <h1> in the content is not part of the text
    assert sinks.article.text.startswith("A passenger ferry carrying 140 people sank")
    assert "37 missing" in sinks.article.text
    assert search.summary_only
    assert search.article.published == datetime(2023, 7, 2, 9, 30, tzinfo=UTC)  # <updated>
    assert search.article.text == (
        "Divers resumed the search at dawn on Sunday; 88 people have been rescued so far."
    )


@pytest.mark.parametrize(
    ("name", "title", "phrase"),
    [
        (
            "latin1_feed.xml",
            "Sismo de magnitude 5,2 sentido em São Miguel",
            "na manhã de segunda-feira",
        ),
        (
            "cp1252_feed.xml",
            "Ferry operator “deeply sorry” after sinking",
            "“deeply sorry” – and promised",
        ),
    ],
)
def test_non_utf8_feeds_with_an_encoding_declaration(name: str, title: str, phrase: str) -> None:
    data = feed_bytes(name)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really is not UTF-8
    (item,) = read_feed(data).items
    assert item.article.title == title
    assert phrase in item.article.text


def test_latin1_feed_title_and_date() -> None:
    feed = read_feed(feed_bytes("latin1_feed.xml"), feed_url="https://diario-regiao.example/rss")
    assert feed.bozo_reason is None
    assert feed.title == "Diário da Região"
    assert feed.articles[0].published == datetime(2024, 6, 3, 8, 30, tzinfo=UTC)


def test_malformed_xml_is_read_leniently_and_flagged() -> None:
    feed = read_feed(feed_bytes("malformed_feed.xml"))
    assert feed.bozo_reason is not None
    assert "not well-formed" in feed.bozo_reason
    assert feed.articles[0].id == "guid:hw-1001"
    assert feed.articles[0].text.startswith("A cargo ship ran aground")


def test_not_a_feed_raises() -> None:
    with pytest.raises(FeedReadError, match="not a readable RSS/Atom feed"):
        read_feed(feed_bytes("not_a_feed.xml"), source="not_a_feed.xml")
    with pytest.raises(FeedReadError, match="empty feed"):
        read_feed(b"  \n")
    with pytest.raises(FeedReadError, match="feed too large"):
        read_feed(feed_bytes("quake_rss.xml"), max_bytes=100)


def test_plain_public_doctype_is_allowed() -> None:
    (item,) = read_feed(feed_bytes("rss091_doctype.xml")).items
    assert item.article.title == "Flood waters recede in the valley"
    assert "1,200 evacuated residents" in item.article.text


def test_outlet_falls_back_to_the_feed_host() -> None:
    data = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><link>https://www.nightdesk.example/</link>'
        b"<item><link>https://www.nightdesk.example/a</link>"
        b"<description>A fire broke out at the depot overnight, firefighters said.</description>"
        b"</item></channel></rss>"
    )
    assert read_feed(data).outlet == "nightdesk.example"
    no_link = data.replace(b"<link>https://www.nightdesk.example/</link>", b"")
    assert (
        read_feed(no_link, feed_url="https://feeds.example.org/x.rss").outlet == "feeds.example.org"
    )


# --- hostile XML ---------------------------------------------------------------------------


def _assert_rejected_fast(data: bytes) -> FeedReadError:
    started = time.perf_counter()
    with pytest.raises(FeedReadError, match="XML entity declarations are not allowed") as info:
        read_feed(data, source="hostile.xml")
    assert time.perf_counter() - started < FAST
    return info.value


def test_billion_laughs_is_rejected_fast() -> None:
    error = _assert_rejected_fast(feed_bytes("billion_laughs.xml"))
    assert "rejected before parsing" in str(error)
    assert "lollol" not in str(error)


def test_external_entity_is_rejected_and_never_read() -> None:
    passwd = Path("/etc/passwd")
    secret = (
        passwd.read_text(encoding="utf-8", errors="replace")[:20] if passwd.exists() else "root:"
    )
    error = _assert_rejected_fast(feed_bytes("xxe_feed.xml"))
    assert secret not in str(error)
    result = read_path(DATA / "xxe_feed.xml")
    assert result.articles == []
    assert all(secret not in str(e) for e in result.errors)


def test_entity_bomb_in_utf16_is_rejected() -> None:
    text = feed_bytes("billion_laughs.xml").decode("ascii").replace('<?xml version="1.0"?>', "")
    _assert_rejected_fast(('<?xml version="1.0" encoding="UTF-16"?>' + text).encode("utf-16"))


def test_entity_bomb_in_a_document_too_broken_to_parse_is_rejected() -> None:
    # An encoding expat does not know makes the safe parser give up before the DTD;
    # the byte scan must still catch the declarations.
    data = feed_bytes("billion_laughs.xml").replace(
        b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="x-no-such-encoding"?>'
    )
    _assert_rejected_fast(data)
    _assert_rejected_fast(b"<rss><<<" + feed_bytes("billion_laughs.xml"))


# --- each entry's own outlet ------------------------------------------------------------------

AGGREGATOR = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Relief Digest</title><link>https://digest.example/</link>
{items}
</channel></rss>"""


def _rss_item(guid: str, extra: str) -> str:
    return (
        f"<item><guid>{guid}</guid><link>https://digest.example/{guid}</link>"
        "<title>Floods cut roads in the delta</title>"
        "<description>Floodwater cut three roads into the delta towns on Monday, "
        "the roads agency said.</description>"
        f"{extra}</item>"
    )


def _outlets(extras: dict[str, str]) -> dict[str, str]:
    body = "\n".join(_rss_item(guid, extra) for guid, extra in extras.items())
    feed = read_feed(AGGREGATOR.format(items=body).encode())
    return {item.article.id.removeprefix("guid:"): item.article.outlet for item in feed.items}


def test_an_entrys_source_publisher_or_organisation_author_is_its_outlet() -> None:
    outlets = _outlets(
        {
            "source": '<source url="https://wire.example/rss">Harbour Wire</source>',
            "note": "<source url='https://x.example/'>Coastal Radio (reprint, x.example)</source>",
            "publisher": "<dc:publisher>Ministry of Water</dc:publisher>"
            "<dc:creator>Ana Ruiz</dc:creator>",
            "org-author": "<dc:creator>Delta Relief Agency</dc:creator>",
            "acronym": "<dc:creator>WFP</dc:creator>",
            "agency": "<dc:creator>Reuters</dc:creator>",
            "person": "<dc:creator>Ana Ruiz</dc:creator>",
            "desk": "<author>desk@digest.example (News Desk)</author>",
            "bare-source": '<source url="https://www.harbourwire.example/feed"></source>',
            "nothing": "",
        }
    )
    assert outlets == {
        "source": "Harbour Wire",
        "note": "Coastal Radio",  # a note on the copy is not part of the name
        "publisher": "Ministry of Water",  # the publisher, not the reporter
        "org-author": "Delta Relief Agency",
        "acronym": "WFP",
        "agency": "Reuters",
        "person": "Relief Digest",  # a byline is a person of the channel's outlet
        "desk": "Relief Digest",  # and so is its own desk
        "bare-source": "harbourwire.example",
        "nothing": "Relief Digest",
    }


def test_an_atom_entrys_source_feed_names_its_outlet() -> None:
    data = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Planet Relief</title><id>urn:planet</id>
<updated>2025-03-01T10:00:00Z</updated>
<entry><id>urn:a</id><title>Clinic reopens</title><updated>2025-03-01T10:00:00Z</updated>
<author><name>Tomas Berg</name></author>
<summary>The district clinic reopened on Saturday after the floods, health officials said.</summary>
<source><id>urn:moh</id><title>Ministry of Health press releases</title></source></entry>
<entry><id>urn:b</id><title>Convoy arrives</title><updated>2025-03-01T09:00:00Z</updated>
<summary>A convoy of 12 trucks reached the camp on Friday, the agency said.</summary>
<source><id>urn:x</id><author><name>Northern Red Cross</name></author></source></entry>
<entry><id>urn:c</id><title>School shut</title><updated>2025-03-01T08:00:00Z</updated>
<author><name>Lena Holt</name></author>
<summary>The village school stayed shut on Thursday, the mayor said.</summary></entry>
</feed>"""
    outlets = [item.article.outlet for item in read_feed(data).items]
    assert outlets == ["Ministry of Health press releases", "Northern Red Cross", "Planet Relief"]


def test_an_outlet_name_is_one_bounded_line() -> None:
    long_name = "Harbour " * 40
    outlets = _outlets(
        {
            "spaced": "<source url='https://a.example/'>  Harbour\n   Wire  </source>",
            "long": f"<source url='https://a.example/'>{long_name}</source>",
            "only-note": "<source url='https://a.example/'>(syndicated)</source>",
        }
    )
    assert outlets["spaced"] == "Harbour Wire"
    assert len(outlets["long"]) <= 120 and outlets["long"].startswith("Harbour Harbour")
    assert outlets["only-note"] == "syndicated"
