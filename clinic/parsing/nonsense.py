"""Whether a message is language at all: "aaaaaaaa", "#$%&*!", "asdfghjkl", "lolololololol".

Text like this still gets a confident intent from the classifiers (any input does), so the
NLU pipeline turns it into a fallback instead (addons/nonsense_gate.py). The rules are
deliberately narrow: short replies ("ok", "no", "3", "hmm", "7/10"), drawn-out words
("soooo painful"), codes (BK-7QX2Z9), numbers, addresses and emoji all count as language.
Every rule is one linear pass over the text.
"""

from __future__ import annotations

import re

_WORD_RE = re.compile(r"[^\W\d_]+")
_RUN_RE = re.compile(r"(.)\1{2,}")  # three or more of the same character
_VOWELS = frozenset("aeiouyàáâäèéêëìíîïòóôöùúûü")
_CONSONANT_RUN = 6  # "strengths" has five in a row; a keyboard mash has more
_LONGEST_WORD = 24  # longer than any word a patient types ("osteoarthritis" is 14)
_REPEATED_UNIT = re.compile(r"^(.{1,4}?)\1{3,}$", re.DOTALL)


def _looks_like_a_word(word: str) -> bool:
    word = _RUN_RE.sub(r"\1", word.lower())  # "soooo" -> "so"
    if len(word) > _LONGEST_WORD:
        return False
    if len(word) < 5:
        return True
    if not any(ch in _VOWELS for ch in word):
        return False
    run = 0
    for ch in word:
        run = 0 if ch in _VOWELS else run + 1
        if run >= _CONSONANT_RUN:
            return False
    return True


def not_language(text: str | None) -> bool:
    """True for text that is no words at all: symbols only, one character or a short unit
    repeated, or mostly letter strings no one would type as words."""
    stripped = "".join((text or "").split())
    if not stripped:
        return False
    if not any(ch.isalnum() or ord(ch) >= 0x2190 for ch in stripped):
        return True  # symbols only (arrows, emoji and other pictographs count as a reply)
    if len(stripped) >= 8 and _REPEATED_UNIT.match(stripped.lower()):
        return True  # "aaaaaaaa", "lolololol", "123123123123"
    words = _WORD_RE.findall(text or "")
    if not words:
        return False  # numbers, dates, times
    wordlike = sum(_looks_like_a_word(w) for w in words)
    return wordlike * 2 < len(words)
