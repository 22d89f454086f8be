"""Score the trained NLU model on an annotated Rasa NLU file (by default the held-out set).

    python scripts/evaluate_nlu.py [--nlu tests/nlu_holdout.yml] [--out results/nlu_holdout.json]

Intents: macro-F1 over the file's intents (a prediction of nlu_fallback counts as a miss),
with the retrieval intent `faq` as one intent, as Rasa's own evaluation counts it. FAQ
selection is scored separately over the faq/<id> examples (right only if the ResponseSelector
picked that FAQ), and a strict macro-F1 treats every faq/<id> as an intent of its own.
Entities: micro-F1 over (entity type, knowledge-base id) pairs per example, which is what the
answer actions use; spans are not compared because only the id reaches them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "spine-clinic.tar.gz"
DEFAULT_NLU = ROOT / "tests" / "nlu_holdout.yml"


@dataclass
class Example:
    text: str
    intent: str
    entities: set[tuple[str, str]]


@dataclass
class Scores:
    intent_macro_f1: float
    intent_accuracy: float
    faq_accuracy: float | None
    full_macro_f1: float
    entity_precision: float
    entity_recall: float
    entity_f1: float
    per_intent: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    gold: list = field(default_factory=list)
    pred: list = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"intent macro-F1: {self.intent_macro_f1:.3f}",
            f"intent accuracy: {self.intent_accuracy:.3f}",
            f"FAQ selection accuracy: {self.faq_accuracy:.3f}"
            if self.faq_accuracy is not None
            else "FAQ selection accuracy: n/a",
            f"macro-F1 with each FAQ as an intent: {self.full_macro_f1:.3f}",
            f"entity F1: {self.entity_f1:.3f} (precision {self.entity_precision:.3f}, "
            f"recall {self.entity_recall:.3f})",
        ]


def load_examples(path: Path) -> list[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [
        Example(
            text=m.get("text"),
            intent=m.get_full_intent(),
            entities={(e["entity"], str(e["value"])) for e in m.get("entities") or []},
        )
        for m in data.intent_examples
    ]


def full_intent(parse: dict) -> str | None:
    """The predicted intent, with the ResponseSelector's pick for a retrieval intent."""
    name = (parse.get("intent") or {}).get("name")
    selectors = parse.get("response_selector") or {}
    selected = selectors.get(name) or (selectors.get("default") if name == "faq" else None)
    key = ((selected or {}).get("response") or {}).get("intent_response_key")
    return key or name


def base(intent: str | None) -> str | None:
    """faq/opening_hours -> faq."""
    return intent.split("/", 1)[0] if intent else intent


def score(examples: list[Example], parses: Iterable[dict]) -> Scores:
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    gold, pred, errors = [], [], []
    tp = fp = fn = 0
    for ex, parse in zip(examples, parses, strict=True):
        predicted_intent = full_intent(parse)
        predicted_entities = {(e["entity"], str(e["value"])) for e in parse.get("entities") or []}
        gold.append(ex.intent)
        pred.append(predicted_intent)
        tp += len(ex.entities & predicted_entities)
        fp += len(predicted_entities - ex.entities)
        fn += len(ex.entities - predicted_entities)
        if predicted_intent != ex.intent or predicted_entities != ex.entities:
            errors.append(
                {
                    "text": ex.text,
                    "intent": ex.intent,
                    "predicted": predicted_intent,
                    "missed_entities": sorted(ex.entities - predicted_entities),
                    "extra_entities": sorted(predicted_entities - ex.entities),
                }
            )
    base_gold, base_pred = [base(g) for g in gold], [base(p) for p in pred]
    labels = sorted({g for g in base_gold if g})
    faq = [(g, p) for g, p in zip(gold, pred, strict=True) if "/" in g]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(
        intent_macro_f1=float(
            f1_score(base_gold, base_pred, labels=labels, average="macro", zero_division=0)
        ),
        intent_accuracy=float(accuracy_score(base_gold, base_pred)),
        faq_accuracy=sum(g == p for g, p in faq) / len(faq) if faq else None,
        full_macro_f1=float(
            f1_score(gold, pred, labels=sorted(set(gold)), average="macro", zero_division=0)
        ),
        entity_precision=precision,
        entity_recall=recall,
        entity_f1=f1,
        per_intent=classification_report(
            gold, pred, labels=sorted(set(gold)), output_dict=True, zero_division=0
        ),
        errors=errors,
        gold=gold,
        pred=pred,
    )


def evaluate(agent, path: Path) -> Scores:
    """Parse every example with the loaded agent and score the results."""
    examples = load_examples(path)

    async def parse_all() -> list[dict]:
        return [await agent.parse_message(ex.text) for ex in examples]

    return score(examples, asyncio.run(parse_all()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nlu", type=Path, default=DEFAULT_NLU)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "nlu_holdout.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    import rasa.utils.log_utils as log_utils

    log_utils.configure_structlog(logging.WARNING)
    logging.basicConfig(level=logging.WARNING)
    from rasa.core.agent import Agent

    scores = evaluate(Agent.load(str(args.model)), args.nlu)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(scores.__dict__, indent=2))
    print(f"{args.nlu}:")
    for line in scores.lines():
        print(f"  {line}")
    print(f"  details and errors: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
