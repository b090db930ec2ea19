"""clean_text: the seeds' real scraping noise, the general rules, and two properties."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ingest.cleaning import clean_text, first_sentence_title

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


# --- the seeds -------------------------------------------------------------------------


def test_seed_003_date_line_becomes_published_and_placeholders_go() -> None:
    cleaned = clean_text(seed("003"))
    assert cleaned.published == datetime(2020, 2, 27, tzinfo=UTC)
    assert cleaned.published.tzinfo is not None
    assert "MINIFYHTML" not in cleaned.text
    assert "%" not in cleaned.text
    assert "date 2020" not in cleaned.text
    assert cleaned.text.startswith("At least 22 Turkish soldiers have been killed")


def test_seed_002_date_prefix_run_into_the_first_sentence() -> None:
    cleaned = clean_text(seed("002"))
    assert cleaned.published == datetime(2020, 2, 28, tzinfo=UTC)
    assert cleaned.text.startswith("At least 29 Turkish solders have been killed")
    # curly quotes are kept as written
    assert "“dramatically shift the course of the Syrian war”" in cleaned.text


def test_seed_004_repeated_caption_and_headline() -> None:
    cleaned = clean_text(seed("004"))
    assert cleaned.text.count("Flags at NATO HQ headquarters Brussels") <= 1
    assert cleaned.title == "Syria: NATO Holds Talks After Idlib Strikes"
    assert "Syria: NATO Holds Talks After Idlib Strikes" not in cleaned.text
    assert cleaned.text.startswith("At least 33 Turkish soldiers were killed")
    assert "\u00a0" not in cleaned.text
    assert "A total of 54 Turkish security personnel" in cleaned.text
    assert cleaned.published is None


def test_seed_001_related_link_and_credit_lines_go() -> None:
    cleaned = clean_text(seed("001"))
    assert "Read:" not in cleaned.text
    assert "Syrian oppn fighters retake key town" not in cleaned.text
    assert "With inputs from" not in cleaned.text
    assert cleaned.text.startswith("Beirut: An air strike by Syrian government forces killed 33")
    assert "almost 950,000 civilians have been displaced" in cleaned.text
    # single-newline paragraphs become blank-line separated ones
    assert "\n\nThe deaths were a serious escalation" in cleaned.text


def test_seed_000_single_paragraph_gets_a_first_sentence_title() -> None:
    raw = seed("000")
    cleaned = clean_text(raw)
    assert cleaned.text == raw.strip()
    assert cleaned.title is not None
    assert cleaned.title.startswith("Turkey retaliated against Syrian government forces")
    assert len(cleaned.title) <= 101
    assert cleaned.title.endswith("…")


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seeds_keep_their_reporting(prefix: str) -> None:
    raw = seed(prefix)
    cleaned = clean_text(raw)
    # cleaning removes noise, not report: at least 90 % of the words survive
    assert len(cleaned.text.split()) >= 0.9 * len(raw.split())
    assert clean_text(cleaned.text).text == cleaned.text


# --- the general rules -------------------------------------------------------------------


def test_date_marker_only_at_the_start_and_only_a_real_date() -> None:
    assert clean_text("Date: 2021-06-30\n\nFloods hit the town, officials said.").published == (
        datetime(2021, 6, 30, tzinfo=UTC)
    )
    invalid = clean_text(" date 2020-13-45 Something happened today, police said.")
    assert invalid.published is None
    assert invalid.text.startswith("date 2020-13-45")
    later = clean_text("Police said on date 2020-02-02 nothing happened at all.")
    assert later.published is None
    assert "2020-02-02" in later.text


def test_invisible_characters_whitespace_and_nfc() -> None:
    raw = (
        "Caf\u0065\u0301\u200b owner\u00a0said\tthe\u2009flood   was\ufeff bad.\r\n"
        "Second line here, he added."
    )
    cleaned = clean_text(raw)
    assert cleaned.text == "Café owner said the flood was bad.\n\nSecond line here, he added."


def test_hard_wrapped_paragraphs_are_joined_but_line_per_paragraph_text_is_not() -> None:
    wrapped = (
        "Rescue teams worked through the night to reach\n"
        "villagers trapped by the landslide, the army\n"
        "said on Monday.\n\n"
        "Second paragraph."
    )
    assert clean_text(wrapped).text == (
        "Rescue teams worked through the night to reach villagers trapped by the landslide, "
        "the army said on Monday.\n\nSecond paragraph."
    )
    lines = "First report line.\nSecond report line.\nThird report line."
    assert (
        clean_text(lines).text == "First report line.\n\nSecond report line.\n\nThird report line."
    )


@pytest.mark.parametrize(
    "line",
    [
        "Read: Syrian oppn fighters retake key town from govt",
        "Read more: Aftershocks rattle coastal towns",
        "Also read: Storm warning issued",
        "ALSO READ: Storm warning issued",
        "RELATED: Avalanche risk raised to level 4",
        "See also: Timeline of the conflict",
        "Watch - Rescuers pull survivor from rubble",
        "Advertisement",
        "Story continues below advertisement",
    ],
)
def test_related_link_and_boilerplate_lines_are_removed(line: str) -> None:
    text = f"The dam burst on Friday, officials said.\n\n{line}\n\nNo one was hurt, police said."
    assert clean_text(text).text == (
        "The dam burst on Friday, officials said.\n\nNo one was hurt, police said."
    )


@pytest.mark.parametrize(
    "line",
    [
        "Read the statement in full, he told reporters.",
        "More-than-expected losses were reported by the insurers on Friday.",
        "Reading: the town west of London, was flooded on Friday, the council said.",
        "Related concerns were raised by the opposition, which called for an inquiry.",
    ],
)
def test_lines_that_merely_start_like_related_links_are_kept(line: str) -> None:
    assert line in clean_text(f"The dam burst on Friday, officials said.\n\n{line}").text


@pytest.mark.parametrize(
    "credit",
    [
        "(With inputs from AP and AFP)",
        "(Reporting by Jane Doe; Editing by John Roe)",
        "Additional reporting by Ali Khan",
    ],
)
def test_credit_lines_are_removed(credit: str) -> None:
    assert clean_text(f"The bridge collapsed, officials said.\n\n{credit}").text == (
        "The bridge collapsed, officials said."
    )


def test_repeated_captions_go_and_repeated_paragraphs_are_kept_once() -> None:
    para = "The storm destroyed 40 homes in the village, the mayor said on Sunday."
    caption = "Damaged homes in the village"
    text = f"{caption}\n\n{para}\n\n{caption}\n\n{para}\n\nMore later."
    cleaned = clean_text(text)
    assert "Damaged homes in the village" not in cleaned.text
    assert cleaned.text.count(para) == 1
    assert cleaned.text.endswith("More later.")


def test_a_short_first_line_before_body_text_is_the_headline() -> None:
    body = "The storm destroyed 40 homes in the village, the mayor said."
    cleaned = clean_text(f"Storm Flattens Village\n\n{body}")
    assert cleaned.title == "Storm Flattens Village"
    assert cleaned.text == body


def test_headline_heuristic_is_conservative() -> None:
    # caption then headline then body: the first line is not followed by body text, keep all
    body = "Ambassadors met on Friday at the request of Turkey, officials said."
    text = f"Flags in Brussels\n\nNATO Holds Talks\n\n{body}"
    cleaned = clean_text(text)
    assert cleaned.text == text
    assert cleaned.title == body
    # a lower-case first line is not a headline
    assert clean_text("breaking news\n\nThe dam burst on Friday, officials said.").title == (
        "The dam burst on Friday, officials said."
    )


def test_known_title_removes_a_repeated_headline_only() -> None:
    text = (
        "Quake Hits Coast\n\nA quake hit the coast on Tuesday, killing 12 people, officials said."
    )
    cleaned = clean_text(text, known_title="Quake hits coast")
    assert cleaned.title == "Quake hits coast"
    assert cleaned.text.startswith("A quake hit the coast")
    other = clean_text(text, known_title="Something else")
    assert other.text == text
    assert other.title == "Something else"


def test_empty_and_noise_only_text() -> None:
    assert clean_text("").text == ""
    assert clean_text("").title is None
    noise = clean_text(
        " date 2024-01-05 %MINIFYHTMLabc123%\n\nRead more: Elsewhere\n\nAdvertisement"
    )
    assert noise.text == ""
    assert noise.published == datetime(2024, 1, 5, tzinfo=UTC)


def test_first_sentence_title_skips_abbreviations_and_truncates() -> None:
    assert first_sentence_title("U.N. officials said 20 people died. More later.") == (
        "U.N. officials said 20 people died."
    )
    long = "word " * 60
    title = first_sentence_title(long)
    assert title is not None
    assert len(title) <= 101
    assert title.endswith("…")


# --- properties -----------------------------------------------------------------------------

_NOISY_LINES = st.sampled_from(
    [
        " date 2020-02-27",
        "date 2020-02-30",
        "%MINIFYHTMLc0c4facb3a8439e1a21098570de0933011%",
        "Flags at NATO HQ headquarters Brussels",
        "Syria: NATO Holds Talks After Idlib Strikes",
        "Read: Syrian oppn fighters retake key town from govt",
        "(With inputs from AP and AFP)",
        "At least 33 Turkish soldiers were killed in an air strike blamed on Damascus.",
        "he said",
        "villagers trapped by the landslide",
        "Advertisement",
        "",
        "\u00a0",
        "\u200b",
        "e\u0301",
    ]
)
_TEXTS = st.one_of(
    st.text(),
    st.lists(st.one_of(_NOISY_LINES, st.text(max_size=30)), max_size=12).flatmap(
        lambda parts: st.sampled_from(["\n", "\n\n", " ", "\r\n"]).map(lambda sep: sep.join(parts))
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXTS)
def test_clean_text_never_raises_and_is_idempotent(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once.text).text == once.text
    assert once.text == once.text.strip()
    assert "\u00a0" not in once.text
    assert "\u200b" not in once.text
