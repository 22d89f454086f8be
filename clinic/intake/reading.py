"""Reading one piece of a patient's story: how long, how bad, since when, where, what helps.

Each parser takes a short free text ("3 weeks", "about a 6", "since I lifted a box") and
returns a normalised value or None; `clinic.intake.case` puts the pieces together.
Vocabulary lives in intake.yml, beside this module.
"""

from __future__ import annotations

import re
from typing import Any

from clinic.knowledge import BODY_PART, SYMPTOM, KnowledgeBase, side_yaml
from clinic.red_flags import Findings

#: The case's questions, as intake.yml names them (and `case_asking` holds).
FIELDS = ("location", "travel", "duration", "onset", "severity", "worse_better", "other_symptoms")
#: Symptoms the "anything else?" question asks about; a plain "no" denies all three.
NERVE_SYMPTOMS = ("numbness", "tingling", "weakness")


def vocabulary() -> dict[str, Any]:
    """intake.yml: the words and question order the intake reads with."""
    return side_yaml(__file__, "intake.yml")


def _words(text: str) -> str:
    return " " + re.sub(r"[^\w'/ ]+", " ", text.lower().replace("’", "'")) + " "


def _has(text: str, phrase: str) -> bool:
    return f" {phrase} " in _words(text)


def is_skip(text: str) -> bool:
    return any(_has(text, w) for w in vocabulary()["skip_words"])


def is_no(text: str) -> bool:
    """A plain denial: "no", "nope", "not really", "none", "no it doesn't"."""
    return bool(
        re.match(r"\s*(no+|nope|nah|not really|not at all|none|never|negative)\b", text.lower())
    )


def is_yes(text: str) -> bool:
    return bool(
        re.match(r"\s*(yes|yeah|yep|yup|ya|yh|it does|sure|definitely|correct)\b", text.lower())
    )


# --- single readings ----------------------------------------------------------------------

_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "couple": 2,
    "few": 3,
    "several": 3,
}
_UNITS = r"(days?|weeks?|wks?|months?|mths?|years?|yrs?)"
_DURATION = re.compile(
    rf"\b(?P<qty>\d+(?:\.\d+)?|{'|'.join(_NUMBER_WORDS)})(?:\s+of)?\s+(?:or so\s+)?{_UNITS}\b"
    rf"|\b(?P<qty2>\d+)\s*(?P<unit2>d|w|days?|weeks?|wks?|months?|mths?|years?|yrs?)\b"
)
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_SINCE = re.compile(
    r"\bsince\s+(?P<when>yesterday|last\s+\w+|\w+day|christmas|the\s+\w+(?:\s+\w+)?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?(?:\s+\w+)?|{_MONTHS}|i\s+\w+(?:\s+\w+){{0,3}})\b"
)
_SEVERITY = re.compile(r"\b(?P<n>10|[0-9])(?:\s*(?:/|out of)\s*10)\b")
#: An answer that starts with a number: "3", "about 6, worse bending", "5 i guess".
_LEADING_NUMBER = re.compile(
    r"^\W*(?:about |around |maybe |prob |probably |like |a )?(\d{1,3})\b"
    r"(?!\s*(?:/|days?|weeks?|wks?|months?|years?))"
)
#: What follows a number that counts something, so is no pain score ("5 minutes", "3 flights").
_QUANTITY = (
    r"/|:|\.\d|am|pm|min|mins|minutes?|hours?|hrs?|days?|weeks?|wks?|months?|years?|yrs?"
    r"|times|x|kg|lb|st|stone|miles?|km|flights?"
)
#: Any number that is not a quantity of something ("bad. 8 when I try to straighten up").
_A_NUMBER = re.compile(rf"\b(10|[0-9])\b(?!\s*(?:{_QUANTITY}))")
#: "a 5", "at a 6", "a solid 7", "7ish": a score without "/10" (never "a 5 minute walk").
_A_SCORE = re.compile(
    r"\b(?:a|at|about|around|like|maybe|prob|probably|solid|easily)\s+(?:a\s+)?(?P<n>10|[0-9])"
    rf"(?:ish)?\b(?!\s*(?:{_QUANTITY}|of|or\b|-|a side))"
    r"|\b(?P<ish>10|[0-9])ish\b"
)
_BARE_NUMBER = re.compile(r"^\D{0,12}\b(?P<n>10|[0-9])\b\D{0,20}$")
_SEVERITY_WORDS = {
    w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())
}
_UNIT_NAMES = {"d": "days", "w": "weeks", "wk": "weeks", "wks": "weeks", "mth": "month"}
_UNIT_NAMES |= {"mths": "months", "yr": "years", "yrs": "years", "hr": "hours", "hrs": "hours"}


def _fortnights(lowered: str) -> str:
    lowered = re.sub(r"\b(a|one) fortnight\b", "2 weeks", lowered)
    return re.sub(r"\b(\d+) fortnights?\b", lambda m: f"{2 * int(m.group(1))} weeks", lowered)


def parse_duration(text: str) -> str | None:
    """'about 3 wks' -> '3 weeks'; 'since last Tuesday' -> 'since last tuesday'."""
    lowered = text.lower()
    lowered = _fortnights(lowered)
    match = _DURATION.search(lowered)
    if match:
        qty = match.group("qty") or match.group("qty2")
        unit = match.group(2) or match.group("unit2")
        unit = _UNIT_NAMES.get(unit, unit)
        count: Any = _NUMBER_WORDS.get(qty, qty)
        if qty in ("couple", "few", "several"):
            count = {"couple": "a couple of", "few": "a few"}.get(qty, qty)
        if str(count) == "1" and unit.endswith("s"):
            unit = unit[:-1]
        elif str(count) != "1" and not unit.endswith("s"):
            unit += "s"
        prefix = "on and off for " if "on and off" in lowered or "on/off" in lowered else ""
        return f"{prefix}{count} {unit}"
    since = _SINCE.search(lowered)
    if since:
        return f"since {' '.join(since.group('when').split())}"
    for word, value in vocabulary()["duration_words"].items():
        if _has(lowered, word):
            return value
    return None


def parse_severity(text: str, asked: bool = False) -> int | None:
    """'about a 7/10' -> 7; 'eight out of ten' -> 8; 'id put it at a 5' -> 5; a bare '7'
    only when it was asked."""
    lowered = re.sub(r"\bout(ta| of) ten\b|\boutta\b", "out of", text.lower())
    lowered = lowered.replace("out of ten", "out of 10")
    match = _SEVERITY.search(lowered)
    if match:
        return int(match.group("n"))
    match = _A_SCORE.search(lowered)
    if match:
        return int(match.group("n") or match.group("ish"))
    if not asked or _DURATION.search(lowered):
        return None
    bare = _BARE_NUMBER.match(lowered.strip())
    if bare:
        return int(bare.group("n"))
    for word, value in _SEVERITY_WORDS.items():
        if _has(lowered, word):
            return value
    for word, value in vocabulary()["severity_words"].items():
        if _has(lowered, word):
            return value
    return None


def parse_side(text: str) -> str | None:
    """Which side, with a correction honoured: "right side not left" -> "right side"."""
    lowered = _words(text)
    denied = set(re.findall(r"\bnot (?:the |my |on the )?(left|right)\b", lowered))
    lowered = lowered.replace("lft", "left").replace("rite", "right")
    sides = [s for s in ("left", "right") if f" {s} " in lowered and s not in denied]
    if re.search(r"\b(both sides|both legs|either side|each side)\b", lowered) or len(sides) == 2:
        return "both sides"
    if sides:
        return f"{sides[0]} side"
    if re.search(r"\b(middle|centre|center|spine itself)\b", lowered):
        return "middle"
    return None


def parse_triggers(text: str) -> dict[str, list[str]]:
    """{'worse': ['sitting', 'coughing'], 'better': ['walking']}, clause by clause."""
    out: dict[str, list[str]] = {"worse": [], "better": []}
    vocab = vocabulary()
    for clause in re.split(r"[,;.]|\bbut\b|\bwhile\b|\bwhereas\b|\band\b", text.lower()):
        found = [
            name for name, words in vocab["triggers"].items() if any(_has(clause, w) for w in words)
        ]
        if not found:
            continue
        direction = "better" if any(_has(clause, w) for w in vocab["better_words"]) else "worse"
        out[direction] += [t for t in found if t not in out[direction]]
    return out


#: How people say how it started; `what` is the part kept (first match wins).
_ONSETS = [
    re.compile(p)
    for p in (
        r"\b(?:it |pain |this |that |which )?(?:started|began|begun|came on|kicked in|happened"
        r"|flared up|flared|went|kicked off)\s+(?:(?:yesterday|today|last \w+|this \w+|on \w+day"
        r"|at work|at home)\s+)?(?P<what>(?:after|when|while|since|from|doing"
        r"|lifting|moving|playing|at|on)\b.{3,80})",
        r"^(?:it was |it's |its |i think |think )?(?P<what>(?:after|since|from|when)\s+i\b.{3,80})",
        r"\b(?:ever )?(?P<what>since (?:i|having|we|my|moving|the|a|an)\b.{3,60})",
        r"(?P<what>\b(?:hurt|pulled|tweaked|twisted|put out|did|done|injured|strained|threw|thrown"
        r"|put) (?:my|his|her) (?:lower )?back\b.{0,60})",
        r"(?P<what>\bmy (?:lower )?back went\b.{0,60})",
        r"^(?P<what>(?:i )?(?:bent|lifted|twisted|slipped|fell|tripped|did the|was lifting|was"
        r" carrying|was doing|was out)\b.{3,80})",
        r"(?P<what>\bfelt (?:it|something|a) (?:go|pop|click|twinge|snap)\b.{0,40})",
        r"(?P<what>\b(?:think|reckon|pretty sure) (?:it'?s|it is|it was) (?:from|because of|after)"
        r"\b.{3,60})",
        r"(?P<what>\bafter (?:a |an |the |my |some |i |doing |being )?(?:\w+ ){0,2}?\w+ing\b"
        r".{0,50})",
    )
]


_CLAUSE_END = re.compile(
    r"[,.;!?]| and (?:it|now|i|ive|i've|its|it's)\b| but | (?:ive|i've|i have) (?:had|got)\b"
)


def parse_onset(text: str) -> str | None:
    """How it started, in the patient's words: "after carrying the shopping upstairs"."""
    return onset_and_rest(text)[0]


def onset_and_rest(text: str) -> tuple[str | None, str]:
    """The onset, and the text without the words that told it (so "started after lifting"
    is not also read as "worse when lifting")."""
    lowered = " ".join(text.lower().replace("’", "'").split())
    for phrase, value in vocabulary()["onset_words"].items():
        if _has(lowered, phrase):
            return value, lowered
    match = None
    for pattern in _ONSETS:
        match = pattern.search(lowered)
        if match:
            break
    if match:
        what = _CLAUSE_END.split(match.group("what"))[0].strip()
        rest = lowered.replace(what, " ")
        return what, rest
    return None, lowered


def travel_from(findings: Findings, text: str, kb: KnowledgeBase) -> str | None:
    """How far down the leg the pain goes: 'down to the calf', or 'stays in the back'."""
    levels = vocabulary()["leg_levels"]
    if stays_in_back(text):
        return "stays in the back"
    reached = [b for b in findings.present(BODY_PART) if b in levels]
    if reached:
        furthest = max(reached, key=levels.index)
        if furthest == "leg":
            return "down the leg"
        return f"down to the {kb.body_parts[furthest].name.lower()}"
    if set(findings.present(SYMPTOM)) & {"pain_down_leg", "radiating_pain"}:
        return "down the leg"
    return None


def stays_in_back(text: str) -> bool:
    """ "It doesn't go down my leg", "no pain in my legs": the pain stays in the back."""
    return any(_has(text, p) for p in vocabulary()["no_travel"])


#: "my back", "lower backs been bad", "back pain": the back, when no region was recognised.
_BACK = re.compile(
    r"\b(?:(lower|low)\s+)?backs?\b(?!\s+of\b)"
    r"(?=\s*(?:'s|s|is|has|been|pain|ache|hurts|$|,|\.|\s))"
)


_PHRASAL_BACK = re.compile(
    r"\b(?:come|comes|coming|came|go|goes|going|went|get|gets|getting|got|call|calls|calling"
    r"|called|ring|text|write|bounce|be|been|being|is|are|was|were|pay|give|hold|look|looking"
    r"|sent|send|bring|brought|way|years|while)\s+(?:(?:me|you|us|it|him|her|them)\s+)?back\b"
)


def location_from(
    findings: Findings, text: str, kb: KnowledgeBase, with_legs: bool = False
) -> str | None:
    """Where it hurts: the regions named (leg regions only when asked where it hurts, since
    in a description they say how far the pain travels)."""
    order = vocabulary()["leg_levels"]
    levels = set() if with_legs else set(order)
    present = findings.present(BODY_PART)
    places = [kb.body_parts[b].name.lower() for b in present if b not in levels and b in kb.regions]
    if not places and "low_back_pain" in findings.present(SYMPTOM):
        places = ["lower back"]
    if not places:
        said = _BACK.search(_PHRASAL_BACK.sub(" ", text.lower()))
        if said:
            places = ["lower back" if said.group(1) else "back"]
    if not places:
        # Nothing in the back: where in the leg it is felt ("my left buttock").
        nearest = sorted((b for b in present if b in order and b != "leg"), key=order.index)
        places = [kb.body_parts[nearest[0]].name.lower()] if nearest else []
    return ", ".join(dict.fromkeys(places)) or None


def says_direction(text: str) -> bool:
    """Whether a message says what makes it worse or better ("sitting makes it worse")."""
    vocab = vocabulary()
    return any(_has(text, w) for w in (*vocab["worse_words"], *vocab["better_words"]))


def says_pain(text: str) -> bool:
    """Whether a message says something hurts ("killing me", "sore", "agony")."""
    return any(_has(text, w) for w in vocabulary()["pain_words"])


def implied_symptoms(findings: Findings, triggers: dict[str, list[str]]) -> list[str]:
    """Symptoms a description implies: what makes it worse, and how far down it goes."""
    vocab = vocabulary()
    out = [
        vocab["symptoms_from_triggers"][t]
        for t in triggers["worse"]
        if t in vocab["symptoms_from_triggers"]
    ]
    out += [
        vocab["symptoms_from_travel"][b]
        for b in findings.present(BODY_PART)
        if b in vocab["symptoms_from_travel"]
    ]
    return out


# --- the case --------------------------------------------------------------------------------


#: Answers that deny a symptom or a warning sign ("bladder n bowels fine", "no fever").
_DENIED = re.compile(
    r"\b(no|not|without|never|nothing)\b.{0,20}\b(numb\w*|tingl\w*|weak\w*|fever\w*|pins"
    r"|bladder|bowels?|pee\w*|wee\w*|poo\w*|temperature)|\b(numb\w*|tingl\w*|bladder|bowels?"
    r"|pee\w*|waterworks|toilet)\b.{0,25}\b(fine|ok|okay|normal|all good|no problems?|grand)\b"
)
#: "achy ever since" (since something told before): how long, though no time is given.
_EVER_SINCE = re.compile(r"\bever since\b")
#: Someone's idea of the cause ("my mum thinks its my kidneys", "GP reckons it could be a
#: disc"): part of the story even when it names an organ outside our scope.
_THEORY = re.compile(
    r"\b(thinks?|thought|reckons?|reckoned|says?|said|told me|convinced|worried|wonders?)\b"
    r".{0,25}?\b(it'?s|it is|it was|it could be|it might be|it may be|could be|might be)\s+\w"
)
_COURSE = re.compile(
    r"\b(getting (worse|better)|worse|better|worsening|improving|easing|eased|flares?|flaring)\b"
)


def mentions_case_details(text: str) -> set[str]:
    """Which details of a story a message gives, by the cheap readings only (no spaCy): for
    the dialogue policy, deciding whether a message adds to a story."""
    triggers = parse_triggers(text)
    lowered = _fortnights(text.lower())
    found = {
        # Only a number or "since ...": "who won bake off last night" tells nothing.
        "duration": _DURATION.search(lowered)
        or _SINCE.search(lowered)
        or _EVER_SINCE.search(lowered),
        "travel": stays_in_back(text),
        "side": parse_side(text),
        "severity": parse_severity(text),
        "onset": parse_onset(text),
        "worse_better": triggers["worse"] or triggers["better"],
        "pain": says_pain(text),
        "course": _COURSE.search(text.lower()),
        "denied": _DENIED.search(text.lower()),
        "theory": _THEORY.search(text.lower().replace("’", "'")),
    }
    return {k for k, v in found.items() if v}


def leading_number(text: str) -> int | None:
    """The number an answer starts with ("3", "5 i think"), for a question that asked one."""
    bare = _LEADING_NUMBER.match(text.lower())
    return int(bare.group(1)) if bare else None


def any_number(text: str) -> int | None:
    """A leading number, or the first number that is not a quantity ("bad. 8 when I sit")."""
    bare = _LEADING_NUMBER.match(text.lower()) or _A_NUMBER.search(text.lower())
    return int(bare.group(1)) if bare else None


def leg_regions() -> frozenset[str]:
    """The body-region ids below the back (buttock to toes), where back pain is often felt."""
    return frozenset(vocabulary()["leg_levels"])
