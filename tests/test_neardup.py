"""Near-duplicate detection: wire copies match, different reports of one event do not."""

from __future__ import annotations

from bot.stories.neardup import MIN_SHINGLES, containment, fingerprint, is_near_duplicate

WIRE = (
    "ANTAKYA, Turkey (AP) — Rescuers pulled more survivors from the rubble on Tuesday as the "
    "death toll from Monday's earthquake in southern Turkey and northern Syria climbed past "
    "5,000. Turkey's disaster management agency said 3,419 people had died in Turkey, while "
    "the Syrian health ministry reported 1,602 deaths in government-held areas. Freezing rain "
    "hampered the search in Hatay province, where entire apartment blocks collapsed. "
    "President Recep Tayyip Erdogan declared seven days of national mourning."
)
REPRINT = (
    "By The Associated Press\n"
    + WIRE.replace("ANTAKYA, Turkey (AP) — ", "").replace(
        " President Recep Tayyip Erdogan declared seven days of national mourning.", ""
    )
    + "\nCopyright 2023 The Associated Press. All rights reserved."
)
OTHER_REPORT = (
    "The number of people killed by the earthquake that struck Turkey and Syria on Monday rose "
    "above 5,000, officials said on Tuesday, as rescue teams in Hatay worked through freezing "
    "rain. Turkey's disaster agency put the Turkish toll at 3,419; Syria's health ministry "
    "counted 1,602 dead. Erdogan announced a week of national mourning."
)


def test_a_reprint_with_new_byline_and_a_dropped_sentence_is_a_copy() -> None:
    a, b = fingerprint(WIRE), fingerprint(REPRINT)
    assert containment(a, b) >= 0.8
    assert is_near_duplicate(a, b)
    assert set(a.keys) & set(b.keys), "a copy must be findable through the index"


def test_another_outlets_report_of_the_same_event_is_not_a_copy() -> None:
    assert containment(fingerprint(WIRE), fingerprint(OTHER_REPORT)) < 0.2
    assert not is_near_duplicate(fingerprint(WIRE), fingerprint(OTHER_REPORT))


def test_case_punctuation_and_spacing_do_not_matter() -> None:
    shouty = WIRE.upper().replace(",", " ,").replace(" ", "  ")
    assert containment(fingerprint(WIRE), fingerprint(shouty)) == 1.0


def test_short_texts_are_never_called_copies() -> None:
    short = "At least 22 people were killed, police said."
    assert len(fingerprint(short).shingles) < MIN_SHINGLES
    assert fingerprint(short).keys == ()
    assert not is_near_duplicate(fingerprint(short), fingerprint(short))


def test_keys_are_stable_and_few() -> None:
    assert fingerprint(WIRE).keys == fingerprint(WIRE).keys
    assert len(fingerprint(WIRE).keys) == 8
