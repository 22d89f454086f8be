"""The trained model loaded for inference only (addons/serving.py) answers exactly as Rasa's
own load does: the same intents, FAQ choices and confidences on the held-out questions, and
the same next-action probabilities from TED, with less memory."""

from __future__ import annotations

import asyncio

import pytest
import yaml
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from addons import serving
from tests.helpers import MODEL, ROOT

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(not MODEL.exists(), reason="needs the trained model"),
]
STORY = ["hi", "I have lower back pain", "3 days", "worse when I cough", "is it serious?"]


def held_out_texts(limit: int = 120) -> list[str]:
    texts = []
    for name in ("nlu_holdout.yml", "nlu_holdout_faq.yml"):
        for block in yaml.safe_load((ROOT / "tests" / name).read_text())["nlu"]:
            texts += [
                line[2:].strip() for line in block["examples"].splitlines() if line[:2] == "- "
            ]
    return texts[:: max(1, len(texts) // limit)]


def summary(parse: dict) -> tuple:
    picked = (parse.get("response_selector") or {}).get("faq", {}).get("response", {})
    return (
        parse["intent"]["name"],
        round(parse["intent"]["confidence"], 5),
        picked.get("intent_response_key"),
        round(picked.get("confidence") or 0.0, 5),
    )


def ted_of(agent) -> TEDPolicy:
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    return next(n._component for n in nodes if isinstance(n._component, TEDPolicy))


async def ted_probabilities(agent) -> list[list[float]]:
    """TED's next-action probabilities after each message of a story (parsed by `agent`)."""
    domain = agent.domain
    tracker = DialogueStateTracker("same", domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    out = []
    for text in STORY:
        parse = await agent.parse_message(text)
        tracker.update(UserUttered(text, parse["intent"], parse["entities"], parse))
        prediction = ted_of(agent).predict_action_probabilities(tracker, domain)
        out.append([round(p, 5) for p in prediction.probabilities])
        tracker.update(
            ActionExecuted(domain.action_names_or_texts[prediction.max_confidence_index])
        )
        tracker.update(ActionExecuted("action_listen"))
    return out


@pytest.fixture(scope="module")
def inference_agent(monkeypatch_module):
    from rasa.core.agent import Agent
    from rasa.utils.tensorflow.models import RasaModel

    monkeypatch_module.setattr(RasaModel, "load", RasaModel.__dict__["load"])
    serving.load_models_for_inference()
    return Agent.load(str(MODEL))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_the_inference_load_answers_exactly_as_rasas_load(agent, inference_agent):
    async def parses(which):
        return [summary(await which.parse_message(text)) for text in held_out_texts()]

    assert asyncio.run(parses(inference_agent)) == asyncio.run(parses(agent))
    assert asyncio.run(ted_probabilities(inference_agent)) == asyncio.run(ted_probabilities(agent))
