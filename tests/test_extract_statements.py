"""Statements: who said what, in wire-style sentences about other events."""

from __future__ import annotations

from typing import Any

import pytest

from bot.extract import extract

CASES: list[tuple[str, dict[str, Any]]] = [
    (
        '"We are doing everything we can," Mayor Jane Smith said.',
        {
            "speaker": "Jane Smith",
            "role": "Mayor",
            "verb": "say",
            "direct": True,
            "text": "We are doing everything we can",
            "official": True,
        },
    ),
    (
        "Prime Minister Fumio Kishida told reporters that rescue teams had been deployed.",
        {
            "speaker": "Fumio Kishida",
            "role": "Prime Minister",
            "verb": "tell",
            "direct": False,
            "text": "rescue teams had been deployed",
        },
    ),
    (
        "The Red Cross warned that the outbreak could spread to neighbouring provinces.",
        {
            "speaker": "Red Cross",
            "verb": "warn",
            "official": True,
            "text": "the outbreak could spread to neighbouring provinces",
        },
    ),
    (
        "Police spokesman Juan Perez said 12 people had been arrested.",
        {"speaker": "Juan Perez", "role": "Police spokesman", "official": True},
    ),
    (
        "A witness said the ferry tilted sharply before sinking.",
        {"official": False, "verb": "say"},
    ),
    (
        "Residents said the water rose within minutes.",
        {"official": False},
    ),
    (
        '"It was terrifying," said Maria Lopez, a local resident.',
        {"speaker": "Maria Lopez", "official": False, "direct": True, "text": "It was terrifying"},
    ),
    (
        "According to the World Health Organization, the outbreak has spread to 12 countries.",
        {"speaker": "World Health Organization", "verb": "say", "official": True},
    ),
    (
        "Governor Gavin Newsom has condemned the attack on firefighters.",
        {
            "speaker": "Gavin Newsom",
            "verb": "condemn",
            "official": True,
            "text": "the attack on firefighters",
        },
    ),
    (
        "The U.N. Secretary-General called for restraint on all sides.",
        {"speaker": "U.N. Secretary-General", "verb": "call", "official": True},
    ),
    (
        'President Joe Biden wrote on Twitter: "Our hearts go out to the victims."',
        {
            "speaker": "Joe Biden",
            "verb": "write",
            "direct": True,
            "text": "Our hearts go out to the victims.",
        },
    ),
    (
        "Officials said the death toll was expected to rise.",
        {"official": False, "speaker": "Officials"},
    ),
    (
        "The European Commission said it would send emergency aid.",
        {"speaker": "European Commission", "official": True, "text": "it would send emergency aid"},
    ),
    (
        "Japan's Chief Cabinet Secretary Yoshimasa Hayashi told a news conference the "
        "government would set up a task force.",
        {"speaker": "Yoshimasa Hayashi", "verb": "tell", "official": True},
    ),
    (
        "Carlos Mendes, the fire chief, said the blaze was contained on Tuesday.",
        {"speaker": "Carlos Mendes", "role": "fire chief", "verb": "say"},
    ),
    (
        "Interior Minister Ali Yerlikaya, the country's top security official, urged residents "
        "to stay indoors.",
        {"speaker": "Ali Yerlikaya", "verb": "urge"},
    ),
    (
        "The rebels have accused the army of shelling civilian areas.",
        {"official": False, "verb": "accuse"},
    ),
    (
        'WHO Director-General Tedros Adhanom Ghebreyesus voiced "deep concern" about the '
        "spread of the virus.",
        {"speaker": "Tedros Adhanom Ghebreyesus", "verb": "voice", "direct": False},
    ),
    (
        "The health ministry announced that schools would close for two weeks.",
        {"speaker": "health ministry", "verb": "announce", "official": True},
    ),
    (
        "Flooding forced thousands from their homes, the disaster agency said in a statement.",
        {
            "speaker": "disaster agency",
            "direct": False,
            "text": "Flooding forced thousands from their homes",
        },
    ),
]


@pytest.mark.parametrize(("sentence", "want"), CASES, ids=[s[:40] for s, _ in CASES])
def test_statement(sentence: str, want: dict[str, Any]) -> None:
    sts = extract(sentence).statements
    assert len(sts) == 1, sts
    st = sts[0]
    for key, value in want.items():
        assert getattr(st, key) == value, (key, getattr(st, key))
    assert sentence[st.evidence.start : st.evidence.end] == st.evidence.sentence


NOT_STATEMENTS = [
    "A spokesperson for the airline declined to comment.",
    "Foreign Minister Mevlut Cavusoglu spoke to NATO Secretary General Jens Stoltenberg.",
    "The president called an emergency meeting of the cabinet.",
    "Reuters reported that the bridge had collapsed.",
    "Rescue teams were confirmed dead after the second avalanche.",
]


@pytest.mark.parametrize("sentence", NOT_STATEMENTS, ids=[s[:40] for s in NOT_STATEMENTS])
def test_not_a_statement(sentence: str) -> None:
    assert extract(sentence).statements == ()


def test_pronoun_follow_up_is_same_speaker_with_aliases() -> None:
    text = (
        "Fire Chief Tom Jones said the blaze was 40 percent contained. "
        "He added that crews would work overnight. "
        "Mr Jones said no homes had been lost."
    )
    sts = extract(text).statements
    assert [s.speaker for s in sts] == ["Tom Jones"] * 3
    assert [s.verb for s in sts] == ["say", "add", "say"]
    assert "Mr Jones" in sts[0].aliases


def test_fullest_name_used_for_surname_mentions() -> None:
    text = (
        "Philippine President Ferdinand Marcos Jr visited the flooded town on Monday. "
        "Marcos said the government would rebuild every school."
    )
    sts = extract(text).statements
    assert sts[0].speaker == "Ferdinand Marcos"


def test_continuation_quote_keeps_speaker() -> None:
    text = (
        '"The water came so fast," village chief Amina Bello said. '
        '"We had nowhere to go. Everything is gone."'
    )
    sts = extract(text).statements
    assert {s.speaker for s in sts} == {"Amina Bello"}
    assert len(sts) >= 2 and all(s.direct for s in sts)


def test_unnamed_pronoun_follow_up_stays_unofficial() -> None:
    text = (
        'A senior police official said the suspect had been detained. "He is cooperating," he said.'
    )
    sts = extract(text).statements
    assert len(sts) == 2 and not any(s.official for s in sts)


@pytest.mark.parametrize(
    "sentence",
    [
        "Moscow claims the soldiers were operating alongside militants.",
        "Turkey has urged the Syrian government to withdraw its forces.",
        "Beijing said the drills were routine.",
    ],
)
def test_a_country_or_capital_speaking_is_not_an_official(sentence: str) -> None:
    statements = extract(sentence).statements
    assert statements and all(not s.official for s in statements)


def test_a_named_institution_of_a_country_is_official() -> None:
    text = "Russia's Defence Ministry said a drone had entered Syrian airspace."
    (st,) = extract(text).statements
    assert st.official
