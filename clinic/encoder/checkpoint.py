"""Which pre-trained encoder the project uses and how its bytes are checked (checkpoint.yml).

No TensorFlow here: the build step (scripts/encoder.py) and the tests use it without loading
the model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from clinic.knowledge.files import KnowledgeBaseError, side_yaml
from clinic.paths import ROOT

SPEC = "checkpoint.yml"


class EncoderError(RuntimeError):
    """The encoder's files are missing or are not the published checkpoint's."""


@dataclass(frozen=True)
class Checkpoint:
    package: str
    version: str
    wheel_sha256: str
    folder: str
    weights: str
    weights_sha256: str
    licence: str
    target: Path
    files: tuple[str, ...]
    max_tokens: int
    graph: str
    graph_record: str

    @property
    def weights_path(self) -> Path:
        return self.target / self.weights

    @property
    def graph_path(self) -> Path:
        return self.target / self.graph

    @property
    def graph_record_path(self) -> Path:
        return self.target / self.graph_record

    @property
    def requirement(self) -> str:
        """A pip requirement line that accepts only the published wheel."""
        return f"{self.package}=={self.version} --hash=sha256:{self.wheel_sha256}"


def checkpoint() -> Checkpoint:
    """The spec in checkpoint.yml, with the unpacked folder under the repository root."""
    data = side_yaml(__file__, SPEC)
    try:
        return Checkpoint(
            package=str(data["package"]),
            version=str(data["version"]),
            wheel_sha256=str(data["wheel_sha256"]).lower(),
            folder=str(data["folder"]),
            weights=str(data["weights"]),
            weights_sha256=str(data["weights_sha256"]).lower(),
            licence=str(data["licence"]),
            target=ROOT / str(data["target"]),
            files=tuple(str(f) for f in data["files"]),
            max_tokens=int(data["max_tokens"]),
            graph=str(data["graph"]),
            graph_record=str(data["graph_record"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise KnowledgeBaseError(f"clinic/encoder/{SPEC}: missing or bad entry {exc}") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(spec: Checkpoint | None = None) -> Path:
    """The unpacked model folder, after checking every file is there and the weights are
    the published checkpoint's; EncoderError saying what to do otherwise."""
    spec = spec or checkpoint()
    missing = [name for name in spec.files if not (spec.target / name).is_file()]
    if missing:
        raise EncoderError(
            f"the sentence encoder is not built: {', '.join(missing)} missing in "
            f"{spec.target} (run `make encoder`)"
        )
    found = sha256_of(spec.weights_path)
    if found != spec.weights_sha256:
        raise EncoderError(
            f"{spec.weights_path} is not the published checkpoint: sha256 {found}, expected "
            f"{spec.weights_sha256} (clinic/encoder/{SPEC}); delete {spec.target} and run "
            "`make encoder` again"
        )
    return spec.target


def verify_graph(spec: Checkpoint | None = None) -> Path:
    """The compiled network, after checking the weights (verify) and that the graph file is
    the one compiled from them (its record: both sha256s); EncoderError otherwise."""
    spec = spec or checkpoint()
    verify(spec)
    try:
        record = json.loads(spec.graph_record_path.read_text())
    except (OSError, ValueError):
        raise EncoderError(
            f"the sentence encoder's network is not compiled: {spec.graph_record_path} missing "
            "or unreadable (run `make encoder`)"
        ) from None
    if record.get("weights_sha256") != spec.weights_sha256:
        raise EncoderError(
            f"{spec.graph_path} was compiled from other weights; run `make encoder` again"
        )
    if not spec.graph_path.is_file() or sha256_of(spec.graph_path) != record.get("graph_sha256"):
        raise EncoderError(
            f"{spec.graph_path} is missing or not the file `make encoder` compiled; run "
            "`make encoder` again"
        )
    return spec.graph_path
