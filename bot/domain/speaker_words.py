"""Words that identify speakers: office titles, honorifics, body nouns, place-bodies.

They live in the domain, not in the extractor's lexicon, because speaker *identity*
(``bot.domain.speakers``) is shared by extraction and change detection, and change
detection must not depend on the extractor. Plain data: word sets only.
"""

from __future__ import annotations


def words(block: str) -> frozenset[str]:
    """A word set written as a whitespace-separated block (keeps long lists readable)."""
    return frozenset(block.split())


# Words that name an office. Lower-cased; multiword titles are matched token by token.
ROLE_WORDS = words(
    """
    president vice-president prime minister ministers secretary-general secretary general
    governor governors mayor mayors ambassador envoy director director-general spokesman
    spokeswoman spokesperson spokespeople spokesmen chief head commander colonel col. gen.
    lt. captain capt. sergeant sgt. maj. major chairman chairwoman chair ceo king queen
    prince princess pope senator sen. rep. representative congressman congresswoman lawmaker
    mp deputy leader premier chancellor coordinator administrator commissioner
    superintendent inspector sheriff judge prosecutor attorney counsel adviser advisor aide
    coroner executive founder official officials correspondent reporter editor professor
    prof. dr. dr emperor sultan emir ayatollah cardinal archbishop bishop marshal admiral
    undersecretary under-secretary chief-of-staff minister-president speaker councillor
    councilor officer officers col gen lt maj capt sgt cmdr cdr adm brig sen rep gov
    lieut amb chargé d’affaires d'affaires
    """
)


# Offices' modifiers that may sit inside a role phrase ("communications director",
# "foreign minister", "police chief").
ROLE_MODIFIERS = words(
    """
    foreign interior defence defense health communications deputy senior junior acting
    former top regional provincial district local state national federal police fire
    emergency security military army navy finance economy justice home public disaster
    rescue relief humanitarian county city municipal assistant associate executive
    press information transport transportation energy education environment agriculture
    village community camp tribal town school hospital church party union opposition
    housing labor labour trade tourism water infrastructure civil
    """
)


HONORIFICS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "sir",
        "dame",
        "mr.",
        "mrs.",
        "ms.",
        "dr.",
        "prof",
        "prof.",
        "lord",
        "lady",
    }
)


BODY_WORDS = words(
    """
    ministry ministries department agency office council commission committee union
    observatory organization organisation nations government presidency administration
    authority army military navy forces service services bureau institute centre center
    cross crescent guard kremlin pentagon house parliament court embassy company corporation
    network group party alliance federation association foundation fund bank programme
    program unicef unhcr who nato un u.n. eu e.u. un's agencies coalition cabinet senate
    congress assembly directorate command headquarters inc ltd corp railways airlines
    airline airways police board survey consulate team defense defence protection
    """
)


# Countries and capitals often used as speakers ("Moscow claims", "Turkey has urged"):
# bodies, never persons, so "he" never resolves to them.
PLACE_BODIES = words(
    """
    turkey syria russia iran iraq israel ukraine china japan india pakistan afghanistan
    greece france germany britain italy spain egypt libya lebanon jordan yemen
    saudi qatar washington moscow ankara damascus beijing tehran kyiv kiev london paris berlin
    brussels tokyo delhi islamabad kabul cairo baghdad jerusalem seoul pyongyang manila
    jakarta bangkok canberra ottawa athens rome madrid america europe nigeria kenya ethiopia
    sudan somalia mexico brazil peru chile colombia venezuela indonesia philippines
    bangladesh nepal myanmar vietnam korea australia canada
    """
)

# Heads of a sub-unit that speaks for its parent organisation when named after it
# ("USAID Office of U.S. Foreign Disaster Assistance" is USAID speaking).
SUB_UNIT_HEADS = words("office offices bureau team unit division staff")

# Body head nouns written two ways: compared as one ("Kenya Airways" is "the airline").
HEAD_SYNONYMS: dict[str, str] = {
    "airways": "airline",
    "airlines": "airline",
    "centre": "center",
    "organisation": "organization",
    "programme": "program",
    "defense": "defence",
}
