"""Who counts as an official speaker, on sentences written for these tests.

Each case is a rule about how news introduces people and bodies: officials by office or
organisation, private people by circumstance; bodies by name, acronym or a noun that
refers back; dates, places and descriptions are never people.
"""

from __future__ import annotations

from bot.extract import extract


def _officials(text: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s in extract(text).statements:
        if s.official:
            out.setdefault(s.speaker, set()).add(s.verb)
    return out


def _speakers(text: str) -> set[str]:
    return {s.speaker for s in extract(text).statements}


# --- private people are not officials ---------------------------------------------------------


def test_a_person_described_by_a_trade_is_not_an_official() -> None:
    text = (
        "Tomas Vidal is a baker in Arequipa. He said the walls of his shop cracked. "
        "Vidal added that his family slept outside."
    )
    assert "Tomas Vidal" in _speakers(text)
    assert _officials(text) == {}


def test_a_named_person_with_no_office_is_not_an_official() -> None:
    text = '"We lost everything," said Lucia Parra, standing by her flattened house.'
    assert _officials(text) == {}


def test_an_age_marks_a_private_person() -> None:
    text = "The flood took the home of 52-year-old Anan Ruiz. Ruiz said the water rose fast."
    assert _officials(text) == {}


def test_an_office_before_the_name_makes_an_official() -> None:
    text = "Provincial Governor Ilse Marek said 40 roads were closed."
    assert "Ilse Marek" in _officials(text)


def test_an_office_told_in_the_next_sentence_makes_an_official() -> None:
    text = (
        'The damage is "worse than 2010," said Omar Diallo. '
        "He leads a Red Cross assessment team in the north."
    )
    assert "Omar Diallo" in _officials(text)


def test_an_office_told_in_an_appositive_makes_an_official() -> None:
    text = "Omar Diallo, a spokesman for the Interior Ministry, said 12 bridges fell."
    assert "Omar Diallo" in _officials(text)


def test_a_correspondent_is_not_an_official() -> None:
    text = '"Streets are empty," the network\'s correspondent Ana Reyes said from Lima.'
    assert _officials(text) == {}


# --- titles written as abbreviations -------------------------------------------------------------


def test_names_are_not_cut_at_title_abbreviations() -> None:
    text = (
        '"Supplies arrive tomorrow," said U.S. Navy Cmdr. Dana Whitfield, head of logistics. '
        "According to Army Lt. Col. Ravi Menon, the bridge is open."
    )
    off = _officials(text)
    assert "Dana Whitfield" in off and "Ravi Menon" in off
    assert not any(s.endswith(("Cmdr", "Col")) for s in _speakers(text))


def test_brigadier_general_is_one_title() -> None:
    text = "Brig. Gen. Hana Okafor said the airlift would continue."
    assert "Hana Okafor" in _officials(text)


# --- things that are not people ---------------------------------------------------------------


def test_a_weekday_between_name_and_verb_is_skipped() -> None:
    text = "Chilean President Sofia Lagos on Thursday said the army would help."
    off = _officials(text)
    assert "Sofia Lagos" in off
    assert "Thursday" not in _speakers(text)


def test_a_phrase_between_name_and_verb_is_skipped() -> None:
    text = "Interior Minister Paul Okello in an interview with local radio warned of more rain."
    assert "Paul Okello" in _officials(text)


def test_a_place_inside_an_appositive_is_not_the_speaker() -> None:
    text = (
        "Mia Chen, a geologist with the U.S. Geological Survey in Denver, Colorado, "
        "said more shocks are likely."
    )
    assert "Mia Chen" in _officials(text)
    assert "Colorado" not in _speakers(text)


def test_a_described_person_is_not_a_body() -> None:
    text = "The man who planted the bomb wrote that he acted alone."
    assert _officials(text) == {}


def test_an_unnamed_judge_is_not_an_official() -> None:
    assert _officials("The judge said the suspect would stay in custody.") == {}


def test_a_qualified_office_without_a_name_is_an_official() -> None:
    text = "The damage, Peru's housing minister said, runs to 3,000 homes."
    assert _officials(text)


# --- bodies ----------------------------------------------------------------------------------


def test_a_defined_acronym_is_the_body_it_stands_for() -> None:
    text = (
        "The Government of Peru (GoP) declared a state of emergency. "
        "The GoP said 200 schools were damaged."
    )
    assert set(_officials(text)) == {"Government of Peru"}


def test_the_agency_refers_back_to_the_latest_body() -> None:
    text = (
        "The National Transportation Safety Board said the engine failed. "
        "The agency added that the recorders were recovered."
    )
    st = [s for s in extract(text).statements if s.verb == "add"]
    assert st and st[0].speaker == "National Transportation Safety Board" and st[0].official


def test_the_agency_with_nothing_to_refer_to_is_no_speaker() -> None:
    assert _officials("The agency said the recorders were recovered.") == {}


def test_a_parenthesis_between_body_and_verb_is_skipped() -> None:
    text = "The Civil Aviation Authority (or CAA) said in a statement that flights resume."
    assert any("Civil Aviation Authority" in s for s in _officials(text))


def test_a_defined_document_is_not_a_speaker() -> None:
    text = (
        "Donors discussed the Flood Response Plan (FRP). The FRP says 2 million people need help."
    )
    assert _officials(text) == {}


def test_an_institution_of_the_country_speaks_without_a_proper_name() -> None:
    assert _officials("Police said three people were arrested.")
    assert _officials("The health ministry said 12 clinics were closed.")


# --- reports, estimates and acts are statements ------------------------------------------------


def test_a_body_reporting_or_estimating_makes_a_statement() -> None:
    text = (
        "The Kenya Red Cross reported Monday that 40 homes collapsed. "
        "The World Food Programme estimated that 9,000 people need food."
    )
    off = _officials(text)
    assert off.get("Kenya Red Cross") == {"report"}
    assert off.get("World Food Programme") == {"estimate"}


def test_a_news_agency_reporting_is_not_an_official() -> None:
    assert _officials("Reuters reported that 40 homes collapsed.") == {}


def test_acts_of_office_are_statements() -> None:
    text = (
        "Governor Lena Park issued a disaster declaration for three counties. "
        "President Ivo Sarr offered his condolences to the families. "
        "Mayor Joan Bell ordered the evacuation of the harbour district."
    )
    off = _officials(text)
    assert off.get("Lena Park") == {"issue"}
    assert off.get("Ivo Sarr") == {"offer"}
    assert off.get("Joan Bell") == {"order"}


def test_an_act_needs_an_official_object() -> None:
    assert _officials("Governor Lena Park sent a team of engineers to the dam.") == {}


def test_the_agent_of_a_passive_act_speaks() -> None:
    text = "The navy was authorized by the Defense Secretary to spend $5 million on relief."
    sts = [s for s in extract(text).statements if s.official]
    assert [s.speaker for s in sts] == ["Defense Secretary"]
    assert sts[0].verb == "authorize"


def test_reports_from_a_body_are_that_body_speaking() -> None:
    text = "Early reports from the Canadian Embassy in Lima estimate that 200 homes fell."
    assert any("Embassy" in s for s in _officials(text))


def test_a_figure_according_to_a_defined_acronym_names_the_body() -> None:
    text = (
        "The Pacific Tsunami Warning Center (PTWC) issued a warning. "
        "Waves reached 2 meters, according to PTWC forecasts."
    )
    off = _officials(text)
    assert (
        "Pacific Tsunami Warning Center" in off and "say" in off["Pacific Tsunami Warning Center"]
    )


# --- names with "of" titles, initials; indefinite bodies -----------------------------------------


def test_a_title_with_of_is_not_part_of_the_name() -> None:
    text = "Minister of Public Works Ana M. Lee said 3 bridges closed. Lee added more would."
    sts = extract(text).statements
    assert {s.speaker for s in sts} == {"Ana M. Lee"}
    assert sts[0].role == "Minister of Public Works"


def test_an_indefinite_body_is_unnamed() -> None:
    assert _officials("A European Union agency said it would send experts.") == {}


def test_a_quotation_opening_on_the_verb_quotes_the_act() -> None:
    text = "Prime Minister Ida Holm also “offered her condolences to the victims’ families.”"
    assert _officials(text).get("Ida Holm") == {"offer"}


def test_a_charge_d_affaires_is_an_official() -> None:
    text = "On May 2, U.S. Chargé d’Affaires, a.i., Mark T. Olsen declared a disaster."
    assert "Mark T. Olsen" in _officials(text)


def test_releasing_a_plan_is_an_act_of_the_body() -> None:
    text = (
        "The Regional Relief Council (RRC) in Chad published an updated appeal "
        "last week, asking donors for $12 million."
    )
    assert "Regional Relief Council" in _officials(text)


def test_a_named_team_speaks_but_a_rescue_team_does_not() -> None:
    assert "USAID Disaster Assistance Response Team" in _officials(
        "The USAID Disaster Assistance Response Team reports that roads are open."
    )
    assert _officials("The rescue team said two people were pulled out alive.") == {}


def test_a_telephone_call_is_an_act_of_office() -> None:
    text = "President Ana Soto telephoned Prime Minister Lee on Tuesday to convey her condolences."
    assert _officials(text).get("Ana Soto") == {"telephone"}


def test_an_office_resolves_to_its_holder_named_elsewhere() -> None:
    text = (
        "Chile's President says the rebuilding will cost billions. "
        "President Ana Soto visited the port on Monday."
    )
    assert set(_officials(text)) == {"Ana Soto"}


def test_an_office_is_not_resolved_to_another_country_s_holder() -> None:
    text = "Chile's President says it will cost billions. U.S. President Tom Hale visited Monday."
    assert set(_officials(text)) == {"Chile's President"}


def test_making_aid_available_is_an_authorisation() -> None:
    text = "President Ana Soto made additional disaster assistance available to Oaxaca."
    assert _officials(text).get("Ana Soto") == {"authorize"}


def test_a_second_verb_shares_the_clause_subject() -> None:
    text = "Governor Ana Lee visited the dam, warned that it could fail."
    assert _officials(text).get("Ana Lee") == {"warn"}
    assert _officials("The river rose, said the mayor.") == {}


def test_an_acronym_defined_in_the_article_gives_a_person_an_office() -> None:
    text = (
        "The UN Emergency Relief Coordinator (ERC) will visit. "
        "ERC Tomas Berg travels to Lima, announces $5 million in funding."
    )
    assert "Tomas Berg" in _officials(text)


def test_an_adjective_rank_word_is_no_office() -> None:
    text = (
        "Lena Park now has 12 major titles, four short of the record set by great Ola Berg. "
        '"I am thrilled," Park said. Berg wrote on Twitter: "Well done."'
    )
    assert _officials(text) == {}


def test_another_person_s_title_before_a_name_is_not_its_office() -> None:
    text = 'Former president Ivo Sarr praised Lena Park. "It was a fine win," Park said.'
    assert "Lena Park" not in _officials(text)


def test_a_title_phrase_may_hold_common_nouns() -> None:
    text = (
        "The ferry sank near the island, said the head of the local search and rescue agency, "
        'Ismail. "We are still searching," Ismail said.'
    )
    assert "Ismail" in _officials(text)


def test_heading_a_body_is_an_office() -> None:
    text = (
        '"Roads are closed," said Lena Park, who heads the city\'s emergency office. '
        "Tom Lee said the bridge held. He runs the district disaster office."
    )
    off = _officials(text)
    assert "Lena Park" in off and "Tom Lee" in off


def test_a_news_agency_acronym_is_not_a_body() -> None:
    sts = extract("AFP reported that 12 people died.").statements
    assert not any(s.official for s in sts)


def test_bodies_named_by_one_word_speak() -> None:
    off = _officials("The Pentagon said 500 troops would deploy. Kremlin said it was ready.")
    assert set(off) == {"Pentagon", "Kremlin"}
    assert _officials("The Agency said it was ready.") == {}


def test_an_acronym_body_and_a_civil_defence_speak() -> None:
    off = _officials(
        "SINPROC, the disaster agency, said 40 died. Chile's Civil Defense said 20 more."
    )
    assert set(off) == {"SINPROC", "Chile's Civil Defense"}
