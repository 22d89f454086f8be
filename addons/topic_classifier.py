"""Rasa NLU component: Rasa's logistic regression, with each clinic FAQ learnt as its own class.

Rasa trains an intent classifier on `faq` as one intent, a mixture of 39 unrelated topics
(opening hours, insurance, sleeping position...). A linear model cannot draw one region
around so many topics, and with balanced class weights the whole mixture counts as much as
any single intent, so a FAQ question with a new word falls to `out_of_scope`. Here the
classifier learns `faq/<id>` classes instead, and their probabilities are summed back into
`faq` for the rest of the pipeline (the ResponseSelector still picks which FAQ answers).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix

RETRIEVAL_SEPARATOR = "/"
TOPIC_KEY = "classifier_faq_topic"


def label_of(example: Message) -> str:
    """The full retrieval key ("faq/insurance") when there is one, else the intent."""
    return example.get(INTENT_RESPONSE_KEY) or example.get(INTENT)


def fold_ranking(classes: list[str], probabilities: list[float]) -> list[dict[str, Any]]:
    """Sum every `intent/<key>` class into its intent; best first."""
    folded: dict[str, float] = {}
    for name, p in zip(classes, probabilities, strict=True):
        intent = name.split(RETRIEVAL_SEPARATOR, 1)[0]
        folded[intent] = folded.get(intent, 0.0) + float(p)
    ranking = [{"name": k, "confidence": v} for k, v in folded.items()]
    return sorted(ranking, key=lambda r: -r["confidence"])


def class_weights(labels: list[str], retrieval_weight: float) -> dict[str, float]:
    """sklearn's "balanced" weights, with every retrieval class (faq/<id>) scaled by
    `retrieval_weight`: below 1, the 39 FAQ classes together pull less against the
    other intents than 39 full intents would."""
    counts = Counter(labels)
    n, k = len(labels), len(counts)
    return {
        c: n / (k * m) * (retrieval_weight if RETRIEVAL_SEPARATOR in c else 1.0)
        for c, m in counts.items()
    }


def best_topic(classes: list[str], probabilities: list[float]) -> dict[str, Any] | None:
    """The most likely retrieval class, for logs and evaluation."""
    pairs = zip(classes, probabilities, strict=True)
    topics = [(p, c) for c, p in pairs if RETRIEVAL_SEPARATOR in c]
    if not topics:
        return None
    p, name = max(topics)
    return {"name": name, "confidence": round(float(p), 3)}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TopicLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Logistic regression over intents and FAQ topics; reports intents only."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "retrieval_class_weight": 1.0}

    def _create_training_matrix(self, training_data: TrainingData) -> tuple[csr_matrix, list[str]]:
        """Features and `faq/<id>`-aware labels. The class weights are set here too: this is
        the one place the labels are known before Rasa's `train()` fits the model."""
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        labels = [label_of(e) for e in examples]
        weight = float(self.config["retrieval_class_weight"])
        self.clf.set_params(class_weight=class_weights(labels, weight))
        return self._create_X(examples), labels

    def process(self, messages: list[Message]) -> list[Message]:
        if not messages:
            return messages
        probabilities = self.clf.predict_proba(self._create_X(messages))
        classes = list(self.clf.classes_)
        for message, row in zip(messages, probabilities, strict=True):
            ranking = fold_ranking(classes, list(row))
            length = self.config.get("ranking_length") or len(ranking)
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[:length], add_to_output=True)
            message.set(TOPIC_KEY, best_topic(classes, list(row)), add_to_output=True)
        return messages
