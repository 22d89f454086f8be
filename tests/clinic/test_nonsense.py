"""What counts as no language at all (the fallback), and the short replies that still count."""

from __future__ import annotations

import pytest

from clinic.parsing.nonsense import not_language


@pytest.mark.parametrize(
    "text",
    ["aaaaaaaa", "a" * 10_000, "#$%&*!", "???", "asdfghjkl", "zzzzzzzzzzz", "gdfgdfgdfgdfg",
     "xcvbnmqwrt plkjhgfdsz"],
)  # fmt: skip
def test_not_language(text):
    assert not_language(text)


@pytest.mark.parametrize(
    "text",
    ["ok", "no", "3", "hmm", "7/10", "soooo painful", "BK-7QX2Z9", "jo@example.com", "👍",
     "my back hurts", "strengths", "sciatica", "L5-S1", "12/05 at 3pm", "07700 900123", "",
     "Nnnnnnnno", "I can't feel my legs", "hahaha", "thx"],
)  # fmt: skip
def test_language_and_short_replies(text):
    assert not not_language(text)
