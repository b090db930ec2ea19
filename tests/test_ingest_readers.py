"""Reading article files and folders from real files on disk."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.articles import content_hash
from bot.ingest import (
    ArticleReadError,
    FeedReadError,
    read_article_file,
    read_folder,
    read_folder_with_errors,
    read_json_articles,
    read_path,
)
from bot.ingest.files import ArticleHints
from bot.ingest.html import html_to_text
from bot.ingest.readers import load_manifest, looks_like_feed

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "ingest"
SEEDS = ROOT / "seeds"


# --- single files ---------------------------------------------------------------------------


def test_plain_text_article_with_scraping_noise() -> None:
    article = read_article_file(DATA / "article.txt")
    assert article.id == "file:article.txt"
    assert article.outlet == "unknown"
    assert article.url is None
    assert article.published == datetime(2024, 2, 11, tzinfo=UTC)
    assert article.text == (
        "Rescuers dug out 9 people alive after an avalanche buried part of a ski lodge in the "
        "Alps on Sunday, police said.\n\nTwo people remain missing, police said."
    )
    assert article.title.startswith("Rescuers dug out 9 people alive")
    assert article.content_hash == content_hash(article.title, article.text)
    assert article.source == f"file:{DATA / 'article.txt'}"


def test_outlet_argument_is_the_default_outlet() -> None:
    assert read_article_file(DATA / "article.txt", outlet="Alpine Post").outlet == "Alpine Post"


def test_json_article_url_identity_outlet_and_offset_date() -> None:
    article = read_article_file(DATA / "article.json")
    assert article.id == "url:https://www.ridgeline-news.example/wildfire-evacuation"
    assert (
        article.url == "https://www.ridgeline-news.example/wildfire-evacuation?utm_campaign=social"
    )
    assert article.outlet == "Ridgeline News"
    assert article.title == "Wildfire forces evacuation of 2,000 residents"
    assert article.published == datetime(2024, 8, 14, 14, 5, tzinfo=UTC)
    assert "Read more" not in article.text
    assert article.text.endswith("No injuries have been reported.")


def test_json_list_guid_beats_url_and_items_keep_distinct_identities() -> None:
    # the strict reader refuses the file because of its bad item ...
    with pytest.raises(ArticleReadError, match=r"item 2: the JSON object has no article text"):
        read_json_articles(DATA / "articles.json")
    # ... the lenient path keeps the good ones and reports the bad one
    result = read_path(DATA / "articles.json")
    first, second = result.articles
    assert first.id == "guid:mw-2024-11-02-001"  # guid wins over the link
    assert first.url == "https://metroweekly.example/river-floods"
    assert first.outlet == "Metro Weekly"
    assert first.title == "River bursts its banks after record rainfall"
    assert first.text == (
        "The river burst its banks on Saturday after record rainfall, flooding 400 homes, the "
        "mayor said.\n\nEmergency shelters have been opened in two schools."
    )
    assert first.published == datetime(2024, 11, 2, 18, 30, tzinfo=UTC)  # RFC 2822
    assert second.id == "file:articles.json#1"
    assert second.published == datetime(2024, 11, 3, tzinfo=UTC)
    assert [type(e) for e in result.errors] == [ArticleReadError]


def test_json_list_through_read_article_file_says_what_to_use() -> None:
    with pytest.raises(ArticleReadError, match="read_json_articles"):
        read_article_file(DATA / "articles.json")


def test_html_article_drops_navigation_and_related_stories() -> None:
    article = read_article_file(DATA / "article.html")
    assert article.title == "Ferry capsizes on Lake Kivu, 12 dead"
    assert article.outlet == "Great Lakes Observer"
    assert article.url == "https://greatlakesobserver.example/news/ferry-capsizes-lake-kivu"
    assert article.id == "url:https://greatlakesobserver.example/news/ferry-capsizes-lake-kivu"
    assert article.published == datetime(2024, 5, 19, 5, 40, tzinfo=UTC)
    assert article.text.startswith("A passenger ferry capsized on Lake Kivu on Sunday morning")
    assert "Forty-one people were rescued" in article.text
    for noise in (
        "Subscribe",
        "Related stories",
        "Lake Albert",
        "54",
        "All rights reserved",
        "dataLayer",
    ):
        assert noise not in article.text


def test_html_to_text_never_raises_on_garbage() -> None:
    assert html_to_text(b"").text == ""
    assert html_to_text((DATA / "random.bin.txt").read_bytes()) is not None
    assert (
        html_to_text("<p>Short fragment, said police.</p>").text == "Short fragment, said police."
    )


def test_markdown_article() -> None:
    article = read_article_file(DATA / "article.md")
    assert article.title == "Typhoon makes landfall, 300,000 evacuated"
    assert article.outlet == "Coastal Monitor"
    assert article.published == datetime(2024, 9, 9, 6, 0, tzinfo=UTC)
    assert article.text.startswith(
        "Typhoon Mira made landfall on the northern coast early on Monday, and about 300,000 "
        "people had been evacuated beforehand, the disaster agency said."
    )
    for markup in ("**", "](", "![", "# ", "> ", "- a fisherman", "*two"):
        assert markup not in article.text
    assert "two deaths so far" in article.text
    assert '"The worst is not over," the agency\'s spokesman said.' in article.text


def test_utf16_with_bom_and_windows_1252_text() -> None:
    utf16 = read_article_file(DATA / "utf16_article.txt")
    assert utf16.title == "Landslide blocks mountain highway"
    assert utf16.text.startswith("A landslide blocked the main mountain highway")
    cp1252 = read_article_file(DATA / "cp1252_article.txt")
    assert cp1252.title == "Storm surge floods seafront café"
    assert "“the worst in 30 years” – damage was estimated at €2 million." in cp1252.text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.txt", r"empty file"),
        ("whitespace_only.txt", r"empty file"),
        ("photo_mislabelled.txt", r"binary content: this is a PNG image"),
        ("random.bin.txt", r"binary content \(contains NUL bytes\)"),
        ("utf16_nobom.txt", r"UTF-16 text, save it with a byte-order mark"),
        (
            "garbage_no_nul.txt",
            r"not valid UTF-8 \(byte 0x[0-9a-f]{2} at offset \d+\).*save the file as UTF-8",
        ),
        ("broken.json", r"broken JSON: Unterminated string .* line 1, column \d+"),
        ("no_text.json", r"the JSON object has no article text"),
        ("noise_only.txt", r"no article text left after removing scraping noise"),
        ("does_not_exist.txt", r"no such file"),
    ],
)
def test_unreadable_files_raise_clear_errors(name: str, message: str) -> None:
    with pytest.raises(ArticleReadError, match=message) as info:
        read_article_file(DATA / name)
    assert info.value.path == DATA / name
    assert str(info.value).startswith(str(DATA / name))


def test_size_limit() -> None:
    with pytest.raises(
        ArticleReadError, match=r"file too large \(.* bytes; the limit is 100 bytes\)"
    ):
        read_article_file(DATA / "article.html", max_bytes=100)


def test_hints_win_over_the_content() -> None:
    hints = ArticleHints(
        outlet="Observer Wire",
        url="https://wire.example/kivu",
        title="Kivu ferry",
        published=datetime(2024, 5, 20, tzinfo=UTC),
        guid="wire-77",
    )
    article = read_article_file(DATA / "article.html", hints=hints)
    assert (article.outlet, article.url, article.title, article.id) == (
        "Observer Wire",
        "https://wire.example/kivu",
        "Kivu ferry",
        "guid:wire-77",
    )
    assert article.published == datetime(2024, 5, 20, tzinfo=UTC)


# --- folders ---------------------------------------------------------------------------------


def test_the_seed_folder_with_its_manifest() -> None:
    articles = read_folder(SEEDS)
    assert [a.id for a in articles] == [f"file:{p.name}" for p in sorted(SEEDS.glob("*.txt"))]
    assert {a.outlet for a in articles} == {"unknown"}
    assert all(a.url is None for a in articles)
    published = {a.id.split("_")[0]: a.published for a in articles}
    assert published == {
        "file:000": None,
        "file:001": None,
        "file:002": datetime(2020, 2, 28, tzinfo=UTC),
        "file:003": datetime(2020, 2, 27, tzinfo=UTC),
        "file:004": None,
    }
    assert all(a.source == f"folder:{SEEDS}" for a in articles)
    assert all("MINIFYHTML" not in a.text for a in articles)


def test_seed_manifest_is_valid() -> None:
    hints = load_manifest(SEEDS / "manifest.json")
    assert sorted(hints) == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert all(h.outlet == "unknown" and h.url is None for h in hints.values())


def _drop_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    for name in (
        "article.txt",
        "article.json",
        "articles.json",
        "empty.txt",
        "photo_mislabelled.txt",
    ):
        shutil.copy(DATA / name, folder / name)
    shutil.copy(DATA / "quake_rss.xml", folder / "b_feed.xml")
    shutil.copy(DATA / "article.html", folder / ".hidden.html")
    shutil.copy(DATA / "article.md", folder / "README.md")
    shutil.copy(DATA / "article.md", folder / "draft.md.part")
    shutil.copy(SEEDS / "000_fe0da61c6f9c7368.txt", folder / "000_seed.txt")
    (folder / "photo.png").write_bytes((DATA / "photo_mislabelled.txt").read_bytes())
    for sub in ("processed", "failed"):
        (folder / sub).mkdir()
        shutil.copy(DATA / "article.md", folder / sub / "old.md")
    return folder


def test_folder_reads_supported_files_in_name_order_and_collects_errors(tmp_path: Path) -> None:
    folder = _drop_folder(tmp_path)
    (folder / "manifest.json").write_text(
        json.dumps(
            {"000_seed.txt": {"outlet": "Seed Outlet", "published": "2020-02-27T18:00:00Z"}}
        ),
        encoding="utf-8",
    )
    result = read_folder_with_errors(folder)
    ids = [a.id for a in result.articles]
    assert ids == [
        "file:000_seed.txt",
        "url:https://www.ridgeline-news.example/wildfire-evacuation",
        "file:article.txt",
        "guid:mw-2024-11-02-001",
        "file:articles.json#1",
        "guid:andes-2024-0412-quake",
        "url:https://www.andesdaily.example/world/aftershocks",
    ]
    seed_article = result.articles[0]
    assert seed_article.outlet == "Seed Outlet"
    assert seed_article.published == datetime(2020, 2, 27, 18, tzinfo=UTC)
    failed = sorted(
        Path(e.path).name if isinstance(e, ArticleReadError) else "feed" for e in result.errors
    )
    assert failed == ["articles.json", "empty.txt", "feed", "feed", "photo_mislabelled.txt"]
    assert sorted(p.name for p in result.skipped) == [
        "README.md",
        "draft.md.part",
        "failed",
        "photo.png",
        "processed",
    ]
    assert len(result.feeds) == 1
    assert [i.summary_only for i in result.feeds[0].items] == [False, True]
    assert read_folder(folder) == result.articles


def test_broken_manifest_is_reported_and_files_still_read(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    shutil.copy(DATA / "article.txt", folder / "article.txt")
    (folder / "manifest.json").write_text('{"article.txt": {"outlet": "X", "colour": "red"}}')
    result = read_folder_with_errors(folder)
    assert [a.id for a in result.articles] == ["file:article.txt"]
    assert result.articles[0].outlet == "unknown"
    (error,) = result.errors
    assert isinstance(error, ArticleReadError)
    assert "manifest: unknown keys ['colour']" in str(error)
    (folder / "manifest.json").write_text("{not json")
    assert "manifest: broken JSON" in str(read_folder_with_errors(folder).errors[0])


def test_manifest_toml(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    shutil.copy(DATA / "article.txt", folder / "article.txt")
    (folder / "manifest.toml").write_text(
        '[files."article.txt"]\noutlet = "Alpine Post"\nurl = "https://alpine.example/avalanche"\n'
    )
    (article,) = read_folder(folder)
    assert article.outlet == "Alpine Post"
    assert article.id == "url:https://alpine.example/avalanche"


# --- read_path -------------------------------------------------------------------------------


def test_read_path_dispatches(tmp_path: Path) -> None:
    assert len(read_path(SEEDS).articles) == 5
    assert [a.id for a in read_path(DATA / "article.md").articles] == ["file:article.md"]
    feed = read_path(DATA / "ferry_atom.xml")
    assert len(feed.articles) == 2
    assert feed.articles[0].source == f"feed:{DATA / 'ferry_atom.xml'}"
    # a feed saved with a .txt name is recognised by its content
    sniffed = tmp_path / "saved_feed.txt"
    shutil.copy(DATA / "quake_rss.xml", sniffed)
    assert len(read_path(sniffed).articles) == 2
    missing = read_path(tmp_path / "nope")
    assert missing.articles == []
    assert "no such file or folder" in str(missing.errors[0])


def test_read_path_never_raises_for_hostile_or_broken_input() -> None:
    for name in (
        "billion_laughs.xml",
        "xxe_feed.xml",
        "not_a_feed.xml",
        "broken.json",
        "empty.txt",
    ):
        result = read_path(DATA / name)
        assert result.articles == []
        assert len(result.errors) == 1
        assert isinstance(result.errors[0], ArticleReadError | FeedReadError)


def test_looks_like_feed() -> None:
    assert looks_like_feed((DATA / "quake_rss.xml").read_bytes())
    assert looks_like_feed((DATA / "ferry_atom.xml").read_bytes())
    assert looks_like_feed(b'\xef\xbb\xbf<?xml version="1.0"?><rdf:RDF xmlns:rdf="x">')
    assert not looks_like_feed((DATA / "article.html").read_bytes())
    assert not looks_like_feed(b"The feed <rss> tag is mentioned in prose.")
