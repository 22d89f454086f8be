"""The NLU component that turns a reported red flag into the `red_flag` intent
(addons/red_flags.py), with and without the second net (clinic/red_flags/similar.py):
what the net finds is added to what the patterns found, never twice, and turns the intent."""

from __future__ import annotations

from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from addons.red_flags import RedFlagDetector
from clinic.nlp import matcher
from clinic.red_flags import RED_FLAGS_KEY
from clinic.red_flags.hits import RedFlagHit


class FakeNet:
    """Finds `flag` in every message, unless the patterns found it already."""

    def __init__(self, flag: str) -> None:
        self.flag = flag
        self.asked: list[set[str]] = []

    def hits(self, doc, found):
        self.asked.append(set(found))
        if self.flag in found:
            return []
        return [RedFlagHit(self.flag, "emergency", "emergency", doc.text, 0, len(doc.text))]


def parsed(text: str, detector: RedFlagDetector) -> Message:
    nlp = matcher().nlp
    message = Message({TEXT: text, INTENT: {"name": "inform", "confidence": 0.9}})
    message.set(SPACY_DOCS[TEXT], nlp(text))
    detector.process([message], SpacyModel(model=nlp, model_name="spine_kb"))
    return message


def test_without_the_net_only_the_patterns_count():
    detector = RedFlagDetector(RedFlagDetector.get_default_config())
    assert detector._net is None
    assert parsed("my stream has been odd lately", detector).get(INTENT)["name"] == "inform"
    message = parsed("I can't feel the toilet paper when I wipe", detector)
    assert message.get(INTENT)["name"] == "red_flag"
    assert [h["id"] for h in message.get(RED_FLAGS_KEY)] == ["saddle_numbness"]


def test_what_the_net_finds_turns_the_intent_and_is_not_added_twice():
    detector = RedFlagDetector(RedFlagDetector.get_default_config())
    detector._net = FakeNet("bladder_bowel")
    message = parsed("my stream has been odd lately", detector)
    assert message.get(INTENT) == {"name": "red_flag", "confidence": 1.0}
    assert [h["id"] for h in message.get(RED_FLAGS_KEY)] == ["bladder_bowel"]

    detector._net = FakeNet("saddle_numbness")
    message = parsed("I can't feel the toilet paper when I wipe", detector)
    assert [h["id"] for h in message.get(RED_FLAGS_KEY)] == ["saddle_numbness"]
    assert detector._net.asked == [{"saddle_numbness"}]  # told what the patterns found
