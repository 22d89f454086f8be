"""Contact details as typed in a chat: phone numbers, email addresses and names.

Every parser takes free text and returns a normalised value or None, so the form can re-ask
with a specific hint instead of guessing.
"""

from __future__ import annotations

import re

__all__ = ["normalise_contact", "normalise_email", "normalise_name", "normalise_phone"]


def normalise_phone(text: str, *, region: str = "US") -> str | None:
    """The first valid phone number in `text`, as E.164 ('+13125550142'), else None.

    A leading '00' is read as the international '+' (as typed in Europe), whatever the
    region; numbers phonenumbers does not consider valid (fictional 555 ranges, too short)
    are rejected so the form can re-ask.
    """
    import phonenumbers

    text = re.sub(r"(?<![\d+])00(?=[1-9])", "+", text)
    for match in phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.VALID
    ):
        number = match.number
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


#: A run of characters that can belong to an address. Candidates are the runs holding an "@":
#: matching the runs first keeps this linear (a pattern anchored on the "@" re-scanned a long
#: run from every position, quadratic in a message without spaces).
_ADDRESS_RUN_RE = re.compile(r"[^\s<>(),;:\"'\[\]]+")


def _email_candidates(text: str) -> list[re.Match[str]]:
    return [m for m in _ADDRESS_RUN_RE.finditer(text) if "@" in m.group(0)]


#: Words that may stand right before an address; anything else ("jane doe@x.com") is
#: read as a space typed inside the address, and rejected rather than half-used.
_EMAIL_LEAD_WORDS = {
    "is",
    "it's",
    "its",
    "it",
    "email",
    "e-mail",
    "mail",
    "address",
    "at",
    "me",
    "use",
    "to",
    "try",
    "here",
    "and",
    "or",
    "was",
    "be",
    "sure",
    "ok",
    "okay",
    "yes",
    "yeah",
    "-",
}


def normalise_email(text: str) -> str | None:
    """The email address in `text`, lower-cased whole (local part too), else None.

    Lower-casing the local part is technically lossy but no real mailbox provider is
    case-sensitive, and one spelling per patient makes look-ups reliable.
    """
    from email_validator import EmailNotValidError, validate_email

    text = text.replace("’", "'")
    for match in _email_candidates(text):
        candidate = match.group(0).strip(".")
        before = text[: match.start()].split()
        lead = before[-1].lower() if before else ""
        # Only a bare "jane doe@x.com" reads as a space typed inside the address; in a
        # sentence ("you can reach me on jane@x.com") the word before is just a word.
        glued = len(before) == 1 and not text[match.end() :].strip()
        if glued and not (lead in _EMAIL_LEAD_WORDS or lead[-1] in ",;:" or _has_digit(lead)):
            return None
        try:
            valid = validate_email(candidate, check_deliverability=False)
        except EmailNotValidError:
            return None
        return valid.normalized.lower()
    return None


def _has_digit(word: str) -> bool:
    return any(ch.isdigit() for ch in word)


def normalise_contact(text: str, *, region: str = "US") -> tuple[str | None, str | None]:
    """(phone, email) from one answer such as '312 555 0142 or jane@x.com'."""
    email = normalise_email(text)
    without_email = _ADDRESS_RUN_RE.sub(lambda m: " " if "@" in m.group(0) else m.group(0), text)
    return normalise_phone(without_email, region=region), email


# ----------------------------------------------------------------------------------------
# Names
# ----------------------------------------------------------------------------------------

_NAME_LEAD_RE = re.compile(
    r"^(?:(?:hi|hello|hey|sure|ok|okay|yes)[,!.]?\s+)*"
    r"(?:my (?:full )?name is|my name's|the name is|the name's|name is|name\s*:|"
    r"i am|i'm|im|it's|its|it is|this is|call me|they call me)\s*[:\-]?\s*",
    re.IGNORECASE,
)
_NAME_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*\.?")
_NOT_NAMES = {
    "yes",
    "no",
    "nope",
    "yeah",
    "yep",
    "skip",
    "stop",
    "cancel",
    "quit",
    "none",
    "ok",
    "okay",
    "sure",
    "hi",
    "hello",
    "hey",
    "help",
    "idk",
    "na",
    "n/a",
    "anonymous",
    "nobody",
}
_REFUSAL_WORDS = {"not", "don't", "dont", "rather", "why", "what", "prefer", "want", "you", "your"}
#: Words that make an answer a question ("how much does it cost", "where do i park"), so a
#: question asked at the name step is not stored as a name. Not "will", "can" or "do": names.
_QUESTION_WORDS = {"how", "what's", "whats", "where", "when", "which", "does", "is", "are"}


_PICK_RE = re.compile(
    r"\b(first|second|third|last|next|other) (one|slot|time|option|please)\b|^(the )?(first|second"
    r"|third|last)$",
    re.I,
)


def normalise_name(text: str) -> str | None:
    """A person's name without lead-ins ('my name is'), or None if it is not a name.

    Curly apostrophes are normalised to ASCII "'" so one spelling is stored and matched.
    Case is fixed only when the whole input is one case ('o'brien' -> "O'Brien"); otherwise
    the person's own capitalisation (McDonald, van der Berg) is kept.
    """
    name = text.strip().replace("’", "'").replace("‘", "'").replace("ʼ", "'")
    name = _NAME_LEAD_RE.sub("", name, count=1)
    name = re.sub(r"[\s.,!;:]+$", "", name) if not re.search(r"\b\w\.$", name) else name
    name = " ".join(name.split())
    if not 2 <= len(name) <= 80 or "@" in name or "?" in name or _has_digit(name):
        return None
    tokens = name.split()
    if len(tokens) > 6 or not all(_NAME_TOKEN_RE.fullmatch(token) for token in tokens):
        return None
    lowered = {token.lower().strip(".") for token in tokens}
    if name.lower().strip(".") in _NOT_NAMES or lowered & (_REFUSAL_WORDS | _QUESTION_WORDS):
        return None
    if _PICK_RE.search(name):  # "the first one", "second please": a choice, not a name
        return None
    if name.islower() or name.isupper():
        name = name.title()
    return name
