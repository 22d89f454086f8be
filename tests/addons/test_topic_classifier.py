"""The intent classifier learns each FAQ as its own class and reports them as one `faq` intent."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.topic_classifier import (
    TOPIC_KEY,
    TopicLogisticRegressionClassifier,
    best_topic,
    class_weights,
    fold_ranking,
    label_of,
)


def test_a_retrieval_example_is_labelled_with_its_faq():
    faq = Message(data={"text": "are you open on sundays", "intent": "faq"})
    faq.set("intent_response_key", "faq/opening_hours")
    plain = Message(data={"text": "hello", "intent": "greet"})
    assert label_of(faq) == "faq/opening_hours"
    assert label_of(plain) == "greet"


def test_faq_classes_are_summed_into_one_intent():
    classes = ["faq/cost", "faq/insurance", "greet", "out_of_scope"]
    ranking = fold_ranking(classes, [0.3, 0.25, 0.05, 0.4])
    assert [r["name"] for r in ranking] == ["faq", "out_of_scope", "greet"]
    assert ranking[0]["confidence"] == pytest.approx(0.55)
    assert best_topic(classes, [0.3, 0.25, 0.05, 0.4]) == {"name": "faq/cost", "confidence": 0.3}
    assert best_topic(["greet"], [1.0]) is None


def test_class_weights_are_balanced_and_faq_classes_can_be_scaled_down():
    labels = ["greet"] * 4 + ["faq/cost"] * 2 + ["faq/insurance"] * 2
    balanced = class_weights(labels, 1.0)
    assert balanced == pytest.approx({"greet": 8 / 12, "faq/cost": 8 / 6, "faq/insurance": 8 / 6})
    halved = class_weights(labels, 0.5)
    assert halved["greet"] == balanced["greet"]
    assert halved["faq/cost"] == pytest.approx(balanced["faq/cost"] / 2)


TRAINING = {
    "faq/opening_hours": ["are you open on sundays", "what time do you open", "opening hours"],
    "faq/insurance": ["do you take my insurance", "is insurance accepted", "insurance cover"],
    "faq/parking": ["where can i park", "is there parking", "car park nearby"],
    "out_of_scope": ["what is the weather", "tell me a joke", "who won the football"],
    "greet": ["hello", "hi there", "good morning"],
}


def _examples() -> list[Message]:
    examples = []
    for label, texts in TRAINING.items():
        intent = label.split("/")[0]
        for text in texts:
            m = Message(data={"text": text, "intent": intent})
            if "/" in label:
                m.set("intent_response_key", label)
            examples.append(m)
    return examples


def test_training_and_prediction_with_real_features(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    featurizer = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("cvf"), context
    )
    data = TrainingData(_examples())
    tokenizer.process_training_data(data)
    featurizer.train(data)
    featurizer.process_training_data(data)
    config = {**TopicLogisticRegressionClassifier.get_default_config(), "random_state": 1}
    clf = TopicLogisticRegressionClassifier.create(config, storage, Resource("lr"), context)
    clf.train(data)
    assert set(clf.clf.classes_) == set(TRAINING)  # three FAQ classes, not one

    message = Message(data={"text": "is there parking near you"})
    tokenizer.process([message])
    featurizer.process([message])
    (parsed,) = clf.process([message])
    names = [r["name"] for r in parsed.get("intent_ranking")]
    assert parsed.get("intent")["name"] == "faq"
    assert sorted(names) == ["faq", "greet", "out_of_scope"]  # topics never leak out
    assert sum(r["confidence"] for r in parsed.get("intent_ranking")) == pytest.approx(1.0)
    assert parsed.get(TOPIC_KEY)["name"] == "faq/parking"
