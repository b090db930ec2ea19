"""A fact sheet's "numbers at a glance" box: numbers with labels instead of sentences.

The boxes are written for these tests in the layout such sheets use.
"""

from __future__ import annotations

from bot.domain.claims import Metric, Qualifier
from bot.extract import extract

SHEET = """Flood Response Fact Sheet #2

Key Figures

1,204

Official Confirmed Deaths in Norvania

87

Number of Deaths in Estaria

2.6 million

Estimated Number of People in Need of Assistance in Norvania

310,000

Estimated Number of People in Evacuation Centers in Norvania

42,000

Estimated Houses Damaged or Destroyed in Norvania

$12,500,000

Humanitarian Funding to Date

The government of Norvania reported 1,204 confirmed deaths as of June 3."""


def test_each_labelled_number_of_people_is_a_figure() -> None:
    got = {
        (f.metric, f.subject_group, f.scope.key, f.quantity.value) for f in extract(SHEET).figures
    }
    assert got == {
        (Metric.KILLED, "people", "local:norvania", 1204),
        (Metric.KILLED, "people", "local:estaria", 87),
        (Metric.AFFECTED, "people in need", "local:norvania", 2_600_000),
        (Metric.DISPLACED, "people in shelters", "local:norvania", 310_000),
        # the body repeats the box's 1,204 without a place: the same figure, same place
        (Metric.KILLED, "", "local:norvania", 1204),
    }


def test_a_label_on_the_number_s_own_line_and_its_qualifier() -> None:
    text = (
        "NUMBERS AT A GLANCE\n\n"
        "More Than 3,100 Estimated Number of People Evacuated from the Coast\n\n"
        "612 Estimated Number of Fatalities in Ostrava UN – May 2, 2024\n"
    )
    got = {(f.metric, f.quantity.value, f.quantity.qualifier) for f in extract(text).figures}
    assert got == {
        (Metric.EVACUATED, 3100, Qualifier.MORE_THAN),
        (Metric.KILLED, 612, Qualifier.ABOUT),
    }


def test_body_lines_that_start_with_a_number_are_read_as_sentences() -> None:
    text = "Report\n\n40 people were killed in the blast, police said.\n"
    (f,) = extract(text).figures
    assert (f.metric, f.quantity.value) == (Metric.KILLED, 40)
