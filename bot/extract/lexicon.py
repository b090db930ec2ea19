"""Word lists the extractor reasons with: metric triggers, subject nouns, role and body words.

Why a hand-written lexicon: casualty reporting uses a small, stable vocabulary
("killed", "injured", "displaced", "the death toll rose to …"). Listing it
explicitly keeps the extractor deterministic, fast and auditable, and lets every
rule elsewhere stay general (no rule names a place, a person or an event).
"""

from __future__ import annotations

from bot.domain.claims import Metric
from bot.domain.speaker_words import BODY_WORDS as BODY_WORDS
from bot.domain.speaker_words import HONORIFICS as HONORIFICS
from bot.domain.speaker_words import PLACE_BODIES as PLACE_BODIES
from bot.domain.speaker_words import ROLE_MODIFIERS as ROLE_MODIFIERS
from bot.domain.speaker_words import ROLE_WORDS as ROLE_WORDS


def words(block: str) -> frozenset[str]:
    """A word set written as a whitespace-separated block (keeps long lists readable)."""
    return frozenset(block.split())


# --- metric triggers ------------------------------------------------------------------------

# Words that, *after* a number and its noun phrase ("33 soldiers were killed", "39 injured",
# "34 soldiers dead"), say what happened to those people.
STATE_TRIGGERS: dict[str, Metric] = {
    "killed": Metric.KILLED,
    "dead": Metric.KILLED,
    "died": Metric.KILLED,
    "die": Metric.KILLED,
    "dies": Metric.KILLED,
    "perished": Metric.KILLED,
    "drowned": Metric.KILLED,
    "slain": Metric.KILLED,
    "murdered": Metric.KILLED,
    "executed": Metric.KILLED,
    "injured": Metric.INJURED,
    "wounded": Metric.INJURED,
    "hurt": Metric.INJURED,
    "missing": Metric.MISSING,
    "displaced": Metric.DISPLACED,
    "fled": Metric.DISPLACED,
    "fleeing": Metric.DISPLACED,
    "uprooted": Metric.DISPLACED,
    "evacuated": Metric.EVACUATED,
    "arrested": Metric.ARRESTED,
    "detained": Metric.ARRESTED,
    "affected": Metric.AFFECTED,
    "rescued": Metric.RESCUED,
    "trapped": Metric.TRAPPED,
    "homeless": Metric.HOMELESS,
    "hospitalised": Metric.HOSPITALISED,
    "hospitalized": Metric.HOSPITALISED,
    "abducted": Metric.ABDUCTED,
    "kidnapped": Metric.ABDUCTED,
}

# Multi-word state triggers, matched as a regex at the position after the verb chain.
# (pattern, metric); order matters only for readability — patterns do not overlap.
PHRASE_TRIGGERS: tuple[tuple[str, Metric], ...] = (
    (r"lost\s+(?:their|his|her)\s+lives?", Metric.KILLED),
    (r"(?:shot|stabbed|burned|burnt|crushed|beaten|hacked)\s+(?:dead|to\s+death)", Metric.KILLED),
    (r"confirmed\s+dead", Metric.KILLED),
    (r"unaccounted\s+for", Metric.MISSING),
    (r"forced\s+(?:from|out\s+of)\s+their\s+homes", Metric.DISPLACED),
    (r"forced\s+to\s+flee", Metric.DISPLACED),
    (r"left\s+homeless", Metric.HOMELESS),
    (r"(?:taken|admitted|rushed|airlifted)\s+to\s+(?:a\s+|the\s+)?hospitals?", Metric.HOSPITALISED),
    (r"(?:in|being\s+treated\s+in)\s+hospital", Metric.HOSPITALISED),
    (r"taken\s+hostage", Metric.ABDUCTED),
    (r"(?:being\s+)?treated\s+for\s+(?:\w+\s+){0,2}(?:wounds|injuries)", Metric.INJURED),
    (r"taken\s+into\s+custody", Metric.ARRESTED),
    (r"suffered\s+(?:serious\s+|minor\s+|severe\s+)?injuries", Metric.INJURED),
    (r"sustained\s+(?:serious\s+|minor\s+|severe\s+)?injuries", Metric.INJURED),
)

# Counts that differ in kind from the plain metric, so they are their own series: people in
# need of assistance are not the people affected; people in shelters are not all the
# displaced. (pattern after the noun phrase, metric, the group counted)
KIND_TRIGGERS: tuple[tuple[str, Metric, str], ...] = (
    (
        r"(?:in\s+need\s+of|(?:requir|need)(?:e|es|ed|ing)?)\s+(?:\w+\s+)?(?:assistance|aid|help)",
        Metric.AFFECTED,
        "people in need",
    ),
    (
        r"(?:sheltering|sheltered|(?:housed|staying|living)\s+in\s+(?:\w+\s+)?"
        r"(?:shelters|accommodation\s+(?:centers|centres|sites)|evacuation\s+cent(?:er|re)s))",
        Metric.DISPLACED,
        "people in shelters",
    ),
)

# Triggers that only ever happen to people (used when the noun after a number is not in
# the subject lexicon: "12 pilgrims were killed" is accepted, "20 villages were evacuated" not).
PERSON_ONLY_METRICS = frozenset(
    {Metric.KILLED, Metric.INJURED, Metric.ARRESTED, Metric.ABDUCTED, Metric.HOSPITALISED}
)

# Active verbs directly *before* a number: "the strike killed 33 soldiers".
ACTIVE_TRIGGERS: dict[str, Metric] = {
    "killed": Metric.KILLED,
    "killing": Metric.KILLED,
    "kills": Metric.KILLED,
    "kill": Metric.KILLED,
    "injured": Metric.INJURED,
    "injuring": Metric.INJURED,
    "injures": Metric.INJURED,
    "wounded": Metric.INJURED,
    "wounding": Metric.INJURED,
    "wounds": Metric.INJURED,
    "hurt": Metric.INJURED,
    "hurting": Metric.INJURED,
    "displaced": Metric.DISPLACED,
    "displacing": Metric.DISPLACED,
    "displaces": Metric.DISPLACED,
    "uprooted": Metric.DISPLACED,
    "evacuated": Metric.EVACUATED,
    "evacuating": Metric.EVACUATED,
    "evacuate": Metric.EVACUATED,
    "evacuates": Metric.EVACUATED,
    "arrested": Metric.ARRESTED,
    "arresting": Metric.ARRESTED,
    "arrest": Metric.ARRESTED,
    "arrests": Metric.ARRESTED,
    "detained": Metric.ARRESTED,
    "detaining": Metric.ARRESTED,
    "detain": Metric.ARRESTED,
    "rescued": Metric.RESCUED,
    "rescuing": Metric.RESCUED,
    "rescue": Metric.RESCUED,
    "abducted": Metric.ABDUCTED,
    "abducting": Metric.ABDUCTED,
    "kidnapped": Metric.ABDUCTED,
    "kidnapping": Metric.ABDUCTED,
    "affected": Metric.AFFECTED,
    "affecting": Metric.AFFECTED,
    "trapped": Metric.TRAPPED,
    "trapping": Metric.TRAPPED,
    "hospitalised": Metric.HOSPITALISED,
    "hospitalized": Metric.HOSPITALISED,
}

# "left 12 people dead", "leaving 3,000 homeless": the state word comes after the noun phrase.
LEAVE_VERBS = frozenset({"left", "leaving", "leaves", "leave"})
LEAVE_STATES: dict[str, Metric] = {
    "dead": Metric.KILLED,
    "injured": Metric.INJURED,
    "wounded": Metric.INJURED,
    "hurt": Metric.INJURED,
    "missing": Metric.MISSING,
    "homeless": Metric.HOMELESS,
    "displaced": Metric.DISPLACED,
    "trapped": Metric.TRAPPED,
}

# Nouns that carry their metric themselves: "12 deaths", "39 injured were treated".
METRIC_NOUNS: dict[str, Metric] = {
    "deaths": Metric.KILLED,
    "death": Metric.KILLED,
    "fatalities": Metric.KILLED,
    "fatality": Metric.KILLED,
    "evacuees": Metric.EVACUATED,
}

# "claimed 40 lives", "cost 12 lives".
LIVES_VERBS = frozenset({"claimed", "claiming", "claims", "claim", "cost", "costing", "took"})

# "death toll", "number of dead" …: a number linked to one of these is a figure.
TOLL_METRICS: dict[str, Metric] = {
    "death": Metric.KILLED,
    "casualty": Metric.KILLED,
    "fatality": Metric.KILLED,
    "injury": Metric.INJURED,
}

# --- subjects --------------------------------------------------------------------------------

# Nouns for the people a figure counts, mapped to a canonical group so that "troops",
# "solders" (a real typo) and "personnel" compare.
_GROUPS: dict[str, tuple[str, ...]] = {
    "soldiers": (
        "soldier",
        "soldiers",
        "solder",
        "solders",
        "troop",
        "troops",
        "personnel",
        "serviceman",
        "servicemen",
        "servicemembers",
        "marines",
        "marine",
        "paratroopers",
        "conscripts",
        "conscript",
        "sailors",
        "airmen",
        "commandos",
        "guardsmen",
        "forces",
        "peacekeepers",
        "peacekeeper",
    ),
    "people": (
        "people",
        "persons",
        "person",
        "individuals",
        "individual",
        "residents",
        "resident",
        "villagers",
        "villager",
        "inhabitants",
        "locals",
        "citizens",
        "victims",
        "survivors",
        "others",
        "men",
        "man",
        "adults",
    ),
    "civilians": ("civilian", "civilians", "non-combatants", "noncombatants"),
    "children": (
        "child",
        "children",
        "kids",
        "boys",
        "boy",
        "girls",
        "girl",
        "schoolchildren",
        "babies",
        "baby",
        "infants",
        "infant",
        "minors",
        "toddlers",
        "teenagers",
        "teens",
        "schoolgirls",
        "schoolboys",
    ),
    "women": ("woman", "women"),
    "police": (
        "police",
        "policemen",
        "policeman",
        "policewomen",
        "officers",
        "officer",
        "cops",
        "gendarmes",
        "constables",
        "troopers",
    ),
    "migrants": ("migrants", "migrant", "refugees", "refugee", "asylum-seekers"),
    "workers": (
        "workers",
        "worker",
        "miners",
        "miner",
        "labourers",
        "laborers",
        "employees",
        "employee",
        "staff",
        "staffers",
        "contractors",
    ),
    "passengers": ("passengers", "passenger", "commuters", "travellers", "travelers"),
    "crew": ("crew", "crewmen", "crewmembers", "seafarers"),
    "students": ("students", "student", "pupils", "pupil", "schoolgirls"),
    "protesters": (
        "protesters",
        "protester",
        "protestors",
        "protestor",
        "demonstrators",
        "demonstrator",
        "rioters",
    ),
    "militants": (
        "militants",
        "militant",
        "fighters",
        "fighter",
        "insurgents",
        "insurgent",
        "rebels",
        "rebel",
        "gunmen",
        "gunman",
        "jihadists",
        "attackers",
    ),
    "rescuers": ("rescuers", "rescuer", "firefighters", "firefighter", "firemen", "volunteers"),
    "health workers": ("medics", "medic", "doctors", "doctor", "nurses", "nurse", "paramedics"),
    "journalists": ("journalists", "journalist", "reporters", "reporter"),
    "tourists": (
        "tourists",
        "tourist",
        "visitors",
        "holidaymakers",
        "hikers",
        "climbers",
        "trekkers",
        "skiers",
    ),
    "pilgrims": ("pilgrims", "worshippers", "worshipers", "faithful"),
    "prisoners": ("prisoners", "inmates", "detainees", "hostages", "suspects"),
    "patients": ("patients", "patient"),
    "families": ("families", "households"),
    "fishermen": ("fishermen", "fishers"),
    "farmers": ("farmers",),
    "fans": ("fans", "spectators", "supporters", "concertgoers"),
}

SUBJECT_GROUPS: dict[str, str] = {w: g for g, words in _GROUPS.items() for w in words}

# Modifier words that change the group of a head noun: "police officers" are police,
# "security personnel" are soldiers, "health workers" are health workers.
MODIFIER_GROUPS: dict[tuple[str, str], str] = {
    ("police", "officers"): "police",
    ("health", "workers"): "health workers",
    ("aid", "workers"): "aid workers",
    ("rescue", "workers"): "rescuers",
    ("crew", "members"): "crew",
    ("service", "members"): "soldiers",
    ("security", "forces"): "soldiers",
}
COMPOUND_HEADS = frozenset({"members"})

# Nouns that are never people: a number before one of these is not a casualty figure.
NON_PERSON_NOUNS = words(
    """
    year years month months week weeks day days hour hours minute minutes second seconds
    decade decades century centuries time times
    km kilometre kilometres kilometer kilometers mile miles metre metres meter meters
    feet foot inch inches cm mm yard yards hectare hectares acre acres square sq
    percent per pc percentage points point goal goals run runs wicket wickets vote votes seat
    seats game games match matches medal medals
    village villages town towns city cities district districts province provinces region
    regions country countries nation nations state states home homes house houses building
    buildings structure structures post posts base bases school schools hospital hospitals
    shelter shelters camp camps road roads bridge bridges vehicle vehicles car cars truck
    trucks bus buses ambulance ambulances aircraft plane planes jet jets helicopter helicopters
    drone drones ship ships boat boats vessel vessels ferry ferries flight flights train trains
    tank tanks missile missiles rocket rockets shell shells bomb bombs weapon weapons gun guns
    animal animals cattle sheep goats livestock cows pigs chickens birds dogs horses
    dollar dollars euro euros pound pounds yuan yen rupee rupees peso pesos lira naira franc
    francs dinar dinars riyal riyals rouble roubles ruble rubles baht ringgit rand shilling
    shillings won cent cents bn million billion
    ton tons tonne tonnes kg kilogram kilograms litre litres liter liters gallon gallons
    barrel barrels degree degrees celsius fahrenheit magnitude mph kph
    case cases infection infections test tests dose doses vaccine vaccines bed beds
    storey storeys story stories floor floors page pages article articles item items
    member-states nation-states aftershock aftershocks earthquake earthquakes quake quakes
    attack attacks strike strikes raid raids incident incidents fire fires blaze blazes
    round rounds time-zone cabinet percent. count counts charge charges
    tent tents meal meals package packages kit kits unit units team teams squad squads
    """
)

# Verbs before a number that make it a population figure, not an impact: "home to 3 million",
# "hosts 3.6 million refugees", "a population of".
HOST_CONTEXT = (
    r"(?:home\s+to|hosts|hosting|hosted|host|houses|housing|shelters|sheltering|employs|"
    r"employing|population\s+of|capacity\s+of|carrying|carried|carries|with\s+room\s+for|"
    r"registered|vaccinated|tested|screened|welcomed|received|receives|attracts|enrolled)"
)

# --- speakers (identity words: bot.domain.speaker_words) --------------------------------------

SPEECH_VERBS: dict[str, str] = {
    "said": "say",
    "says": "say",
    "say": "say",
    "told": "tell",
    "tells": "tell",
    "added": "add",
    "adds": "add",
    "warned": "warn",
    "warns": "warn",
    "condemned": "condemn",
    "condemns": "condemn",
    "voiced": "voice",
    "voices": "voice",
    "accused": "accuse",
    "accuses": "accuse",
    "claimed": "claim",
    "claims": "claim",
    "promised": "promise",
    "promises": "promise",
    "urged": "urge",
    "urges": "urge",
    "wrote": "write",
    "writes": "write",
    "confirmed": "confirm",
    "confirms": "confirm",
    "denied": "deny",
    "denies": "deny",
    "announced": "announce",
    "announces": "announce",
    "expressed": "express",
    "expresses": "express",
    "reiterated": "reiterate",
    "reiterates": "reiterate",
    "stated": "state",
    "noted": "note",
    "notes": "note",
    "insisted": "insist",
    "insists": "insist",
    "explained": "explain",
    "declared": "declare",
    "declares": "declare",
    "vowed": "vow",
    "vows": "vow",
    "pledged": "pledge",
    "pledges": "pledge",
    "threatened": "threaten",
    "threatens": "threaten",
    "demanded": "demand",
    "demands": "demand",
    "appealed": "appeal",
    "acknowledged": "acknowledge",
    "tweeted": "tweet",
    "stressed": "stress",
    "criticised": "criticise",
    "criticized": "criticise",
    "blamed": "blame",
    "blames": "blame",
    "welcomed": "welcome",
    "rejected": "reject",
    "reported": "report",
    "reports": "report",
    "estimated": "estimate",
    "estimates": "estimate",
    "estimate": "estimate",
    "puts": "put",
    "put": "put",
    "affirmed": "affirm",
    "affirms": "affirm",
    "authorized": "authorize",
    "authorised": "authorize",
    "authorizes": "authorize",
    "authorises": "authorize",
    "ordered": "order",
    "orders": "order",
    "telephoned": "telephone",
    "phoned": "telephone",
}
# Official acts told with an object: "issued a disaster declaration", "offered his
# condolences", "sent a formal statement". The verb maps to its lemma; the object must be
# one of ACT_OBJECTS (so "sent a team" or "issued 300 tents" are not statements).
ACT_VERBS: dict[str, str] = {
    "issued": "issue",
    "issues": "issue",
    "offered": "offer",
    "offers": "offer",
    "conveyed": "convey",
    "conveys": "convey",
    "extended": "extend",
    "extends": "extend",
    "sent": "send",
    "sends": "send",
    "approved": "approve",
    "approves": "approve",
    "released": "release",
    "releases": "release",
    "published": "publish",
    "publishes": "publish",
}
ACT_OBJECTS = words(
    "declaration statement condolences condolence order warning appeal proclamation sympathies"
    " request plan report figures estimate estimates assessment"
)
# "made disaster assistance available": an official authorising aid.
AID_NOUNS = words("assistance aid funds funding resources grants")
# Acts told in the passive with their agent: "authorized by the Secretary of Defense".
AGENT_VERBS: dict[str, str] = {
    "authorized": "authorize",
    "authorised": "authorize",
    "approved": "approve",
    "ordered": "order",
    "declared": "declare",
}
# Verbs that take "for"/"on": "called for a ceasefire", "called on Russia to …".
CALL_VERBS = {"called": "call", "calls": "call", "calling": "call", "call": "call"}

# Verbs used for figure attribution but which do not make a statement by themselves.
ATTRIBUTION_ONLY_VERBS = frozenset({"put"})

# Titles written as abbreviations ("Col.", "Cmdr.", "Sen."): the period belongs to the
# title, so "U.S. Army Col. Ryan Hale" is one speaker phrase, not a phrase cut at "Col".
TITLE_ABBREVIATIONS = words(
    """
    gen lt col maj capt sgt cmdr cdr adm brig sen rep gov dr mr mrs ms prof rev hon pres
    supt insp cpl pvt lieut amb
    """
)

PRONOUNS = frozenset({"he", "she", "it", "they", "we", "i"})

# Speakers that are not officials: an alert must never be raised for them.
UNNAMED_HEADS = words(
    """
    official officials source sources resident residents witness witnesses survivor survivors
    relative relatives spokesperson spokesman spokeswoman people activists activist analyst
    analysts diplomat diplomats observers observer expert experts doctor doctors medic medics
    rescuers rescuer worker workers villager villagers neighbour neighbours neighbor neighbors
    person man woman officer officers member members forces fighters rebels militants
    """
)
NON_OFFICIAL_ROLE_WORDS = words(
    """
    resident residents witness witnesses survivor survivors relative relatives correspondent
    correspondents reporter reporters journalist journalists analyst analysts editor
    reporting villager villagers neighbour neighbor student students
    """
)
# Words that describe a private person, not an office: a named speaker described so
# ("Ana Ruiz is a teacher", "39-year-old Ana Ruiz", "said Tom Lee, a mechanic") is not
# an official even though the article names them.
PRIVATE_PERSON_WORDS = words(
    """
    resident residents witness survivor survivors relative relatives correspondent
    correspondents reporter reporters journalist journalists analyst analysts editor
    villager villagers neighbour neighbor student students mechanic teacher farmer owner
    shopkeeper fisherman driver mother father brother sister son daughter wife husband
    cousin uncle aunt friend fan fans golfer player athlete passenger passengers victim
    worker volunteer homeowner businessman businesswoman vendor trader tourist grandmother
    grandfather widow shop-owner year-old
    """
)
# Verbs that, after "He"/"She" opening the next sentence, say what office a person holds
# ("He led a Red Cross team …", "She heads the district's disaster office").
OFFICE_VERBS = words(
    "led leads heads headed runs ran directs directed chairs chaired is was serves"
)

# Body nouns that can refer back to any organisation ("the FAA … the agency said").
GENERIC_BODY_HEADS = words("agency organization organisation body institution")

# Bodies a country has one of: "the government said", "police said" name it even with
# no proper noun (the government and police of the place the story is about).
INSTITUTION_HEADS = words("government presidency police army military navy cabinet parliament")

# Nouns for what a body publishes: "reports from the embassy", "figures from the
# ministry" — the body after "from"/"by" is the speaker.
REPORT_NOUNS = words(
    "reports report figures data estimates estimate statement count numbers tally forecasts"
    " forecast"
)

# Body heads that a common-noun phrase does not make unique: "the rescue team said" is
# some team, unlike "the health ministry".
UNQUALIFIED_BODY_HEADS = words(
    "team group company network party alliance coalition union association foundation fund"
)

# Body words that are names by themselves: "the Pentagon said", "the Kremlin said".
PROPER_BODY_NOUNS = words("pentagon kremlin unicef unhcr nato who un eu congress senate")

MEDIA_WORDS = words(
    """
    reuters ap afp anadolu xinhua tass ria interfax bbc cnn ntv trt dpa efe kyodo yonhap
    bernama antara media newspaper newspapers paper broadcaster broadcasters tv television
    channel radio agency reports report times post journal guardian aljazeera jazeera
    outlet outlets daily press wire
    """
)
GROUP_PLURAL_HEADS = words(
    """
    officials sources residents witnesses survivors relatives activists analysts diplomats
    observers experts doctors medics rescuers workers villagers neighbours neighbors officers
    members forces fighters rebels militants authorities media people troops soldiers
    """
)

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
MONTH_ABBREVIATIONS = {m[:3]: m for m in MONTHS} | {"sept": "september"}
WEEKDAYS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"})
