"""General English news conventions the drafter recognises: speech and act verbs (with candidate
CAMEO codes), titles of office, event nouns, demonyms, capitals, line conventions. Nothing here
names an article; entities come from the registry."""
from __future__ import annotations

import re

# Reporting verbs: they introduce what someone said. Past, present and -ing forms.
SPEECH_VERBS = (
    "said", "says", "say", "saying", "told", "tells", "tell", "added", "adds", "adding", "stated", "states", "noted", "notes",
    "explained", "declared", "announced", "announces", "insisted", "argued", "asserted", "claimed", "claims",
    "warned", "warns", "stressed", "stresses", "underscored", "emphasized", "emphasised", "reiterated", "remarked",
    "wrote", "replied", "responded", "confirmed", "acknowledged", "maintained", "observed", "commented",
    "reported", "reports", "quoted", "recalled", "recounted", "cautioned", "predicted", "suggested", "revealed", "disclosed",
)
# Verbs of an act performed by speaking, with the CAMEO code a curator most often picks for them.
ACT_VERBS: dict[str, str] = {
    "praised": "051", "praises": "051", "praising": "051", "hailed": "051", "hails": "051", "hailing": "051",
    "welcomed": "051", "welcomes": "051", "welcoming": "051", "commended": "051", "lauded": "051",
    "urged": "02", "urges": "02", "urging": "02", "called on": "02", "calls on": "02", "calling on": "02",
    "called for": "02", "calls for": "02", "appealed": "02", "appeals": "02", "pleaded": "02",
    "demanded": "10", "demands": "10", "demanding": "10",
    "denied": "016", "denies": "016", "denying": "016", "disputed": "016", "disputes": "016", "disputing": "016",
    "rejected": "12", "rejects": "12", "rejecting": "12", "dismissed": "12", "dismisses": "12", "dismissing": "12",
    "offered": "03", "offers": "03", "offering": "03", "proposed": "03", "proposes": "03", "proposing": "03",
    "vowed": "03", "vows": "03", "vowing": "03", "pledged": "03", "pledges": "03", "promised": "03",
    "expressed hope": "013", "expressed optimism": "013", "expressed confidence": "013",
}
SPEECH_VERB_CAMEO = "010"  # a plain statement
# A denial's code depends on what is denied (the CAMEO manual): an accusation (016 Deny responsibility),
# someone's account (110 Disapprove), a plan or proposal (12 Reject, as in ACT_VERBS).
DENIED_ACCUSATION = re.compile(r"^\W*(?:the\s+|an?\s+|any\s+)?(?:\w+\s+)?(?:accusations?|allegations?|responsibility|"
                               r"involvement|charges?|wrongdoing)\b")
DENIED_ACCOUNT = re.compile(r"^\W*(?:the\s+|\w+'s\s+|\w+\u2019s\s+)?(?:\w+\s+)?(?:claims?|reports?|account|"
                            r"assertions?|remarks|statements?)\b")
DENIAL_VERBS = frozenset({"denied", "denies", "denying", "disputed", "disputes", "disputing", "rejected", "rejects",
                          "rejecting", "dismissed", "dismisses", "dismissing"})
def act_code(verb: str, following: str) -> str:
    """The candidate CAMEO code of a statement made with `verb`, given the words after it."""
    if verb in DENIAL_VERBS:
        if DENIED_ACCUSATION.match(following):
            return "016"
        if DENIED_ACCOUNT.match(following):
            return "110"
    return ACT_VERBS.get(verb, SPEECH_VERB_CAMEO)


# Audiences of "told X".
AUDIENCES = ("reporters", "journalists", "the press", "a news conference", "a press conference", "a briefing",
             "lawmakers", "parliament", "state media", "state television", "the media")

# Titles of office, longest first when matched; lower-case forms are matched case-insensitively.
TITLES = (
    "State Councilor and Foreign Minister", "Vice Foreign Minister", "Deputy Foreign Minister", "Foreign Minister",
    "Foreign Secretary", "Secretary of State", "Secretary-General", "Secretary General", "State Councilor",
    "Vice President", "Prime Minister", "President", "Chairman", "Chairwoman", "Chancellor", "Premier",
    "Defense Minister", "Defence Minister", "Minister", "Ambassador", "Special Envoy", "Envoy",
    "National Security Adviser", "Special Representative", "Spokesperson", "Spokesman", "Spokeswoman",
    "Leader", "King", "Queen", "Senator", "General", "Governor", "Mayor", "FM", "Chief", "Director",
)
SPOKESPERSON_TITLES = frozenset({"spokesperson", "spokesman", "spokeswoman"})
TITLE_ABBREVIATIONS = {"FM": "Foreign Minister"}

# Nouns that name an event, with the registry type a drafted event gets.
EVENT_NOUNS: dict[str, str] = {
    "summit": "Summit", "press conference": "PressConference", "news conference": "PressConference",
    "press briefing": "PressConference", "news briefing": "PressConference", "briefing": "PressConference",
    "meeting": "Meeting", "talks": "Meeting", "phone call": "Meeting", "telephone call": "Meeting",
    "call": "Meeting", "visit": "Meeting", "speech": "Speech", "address": "Speech", "dinner": "Dinner",
    "banquet": "Dinner", "interview": "Event", "ceremony": "Event",
}
EVENT_CAMEO = {"Summit": "046", "Meeting": "043", "Dinner": "044"}

# Demonyms of states (the registry names the state; the demonym is a mention of it).
DEMONYMS: dict[str, tuple[str, ...]] = {
    "China": ("Chinese",), "Russia": ("Russian",), "United States": ("American",), "Japan": ("Japanese",),
    "North Korea": ("North Korean",), "South Korea": ("South Korean",), "Vietnam": ("Vietnamese",),
    "Singapore": ("Singaporean",), "France": ("French",), "Germany": ("German",), "United Kingdom": ("British",),
    "India": ("Indian",), "Iran": ("Iranian",), "Israel": ("Israeli",), "Ukraine": ("Ukrainian",),
    "Turkey": ("Turkish",), "Italy": ("Italian",), "Spain": ("Spanish",), "Canada": ("Canadian",),
    "Brazil": ("Brazilian",), "Mexico": ("Mexican",), "Egypt": ("Egyptian",), "Pakistan": ("Pakistani",),
    "Philippines": ("Philippine", "Filipino"), "Indonesia": ("Indonesian",), "Australia": ("Australian",),
    "Norway": ("Norwegian",), "Sweden": ("Swedish",), "Poland": ("Polish",), "Qatar": ("Qatari",),
    "Saudi Arabia": ("Saudi",), "Syria": ("Syrian",), "Iraq": ("Iraqi",), "Kenya": ("Kenyan",),
    "Nigeria": ("Nigerian",), "Ethiopia": ("Ethiopian",), "Greece": ("Greek",), "Thailand": ("Thai",),
    "Malaysia": ("Malaysian",), "Mongolia": ("Mongolian",), "Switzerland": ("Swiss",), "Austria": ("Austrian",),
}
# Capitals standing for their governments ("Moscow welcomed ..."): capital -> state name.
CAPITALS: dict[str, str] = {
    "Washington": "United States", "Moscow": "Russia", "Beijing": "China", "Pyongyang": "North Korea",
    "Seoul": "South Korea", "Tokyo": "Japan", "Hanoi": "Vietnam", "London": "United Kingdom", "Paris": "France",
    "Berlin": "Germany", "Kyiv": "Ukraine", "Kiev": "Ukraine", "Tehran": "Iran", "New Delhi": "India",
    "Ankara": "Turkey", "Ottawa": "Canada", "Canberra": "Australia", "Islamabad": "Pakistan", "Cairo": "Egypt",
    "Jakarta": "Indonesia", "Manila": "Philippines", "Oslo": "Norway", "Stockholm": "Sweden", "Warsaw": "Poland",
    "Doha": "Qatar", "Riyadh": "Saudi Arabia", "Damascus": "Syria", "Baghdad": "Iraq", "Brussels": "Belgium",
    "Rome": "Italy", "Madrid": "Spain", "Nairobi": "Kenya", "Addis Ababa": "Ethiopia", "Athens": "Greece",
    "Bangkok": "Thailand", "Kuala Lumpur": "Malaysia", "Ulaanbaatar": "Mongolia", "Bern": "Switzerland",
    "Vienna": "Austria", "Brasilia": "Brazil", "Mexico City": "Mexico",
}
# Words that end the name of an organisation ("Ministry", "Agency" ...), for new entity candidates.
ORGANISATION_HEADS = ("Ministry", "Agency", "Council", "Committee", "Commission", "Organization", "Organisation",
                      "Union", "Party", "Bank", "Office", "Department", "Association", "Institute", "University",
                      "Fund", "Forum", "Centre", "Center", "Alliance", "Assembly", "Parliament", "Senate", "Court", "Group", "Authority")
# Capitalised words that begin sentences or name times: never names of people or places.
NOT_NAMES = frozenset(
    ["The", "A", "An", "In", "On", "At", "For", "From", "During", "After", "Before", "But", "And", "Or", "If", "When", "While", "As", "Its", "His", "Her", "Their", "Our", "We", "They", "He", "She", "It", "This", "That", "These", "Those", "There", "Here", "Read", "More", "However", "Meanwhile", "Also", "Calling", "Commenting", "Asked", "Speaking", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December", "Mr", "Mrs", "Ms", "Dr", "I", "You", "Students", "Officials", "Some", "Many", "Both"])

LINK_MARKER = re.compile(r"^(?:Read more|Related|Related stories|Also read|See also|More|Read also)\s*:?\s*$", re.IGNORECASE)
CREDIT_LINE = re.compile(r"^\(?\s*(?:With (?:inputs|input|additional reporting) from|Source:|Sources:|Reporting by|"
                         r"Writing by|Editing by|Edited by|Additional reporting by)\b.*\)?\s*$", re.IGNORECASE)
# A caption ends with its photo credit: "... /XYZ Photo", "(Photo: Agency)", "Photo: AFP".
CAPTION_CREDIT = re.compile(r"(?:\s/\s?(?P<slash>[A-Z][\w.&-]*(?: [A-Z][\w.&-]*)*) Photos?|"
                            r"\s\(?(?:Photo|Picture|Image)s?(?: by|:)\s*(?P<paren>[A-Z][\w.&-]*(?: [A-Z][\w.&-]*)*)\)?)\s*$")
