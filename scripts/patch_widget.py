"""Apply web/patches/rasa-webchat.yml to the installed rasa-webchat bundle (`make web`).

    python scripts/patch_widget.py [--check]

Reads web/node_modules/rasa-webchat/lib/index.js as `npm ci` left it, refuses it unless its
version and sha256 are the ones the patch was written for, makes each replacement exactly the
expected number of times, and writes build/web/rasa-webchat.js (atomically). `--check` only
verifies, and writes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "web" / "patches" / "rasa-webchat.yml"
MODULES = ROOT / "web" / "node_modules"
OUTPUT = ROOT / "build" / "web" / "rasa-webchat.js"


class PatchError(Exception):
    """The installed bundle is not the one the patch was written for."""


@dataclass(frozen=True)
class Replacement:
    find: str
    replace: str
    count: int
    why: str


@dataclass(frozen=True)
class Patch:
    package: str
    version: str
    file: str
    sha256: str
    replacements: tuple[Replacement, ...]


def load(path: Path = SPEC) -> Patch:
    """The patch file, checked for the fields it needs (errors name the file and entry)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        replacements = tuple(
            Replacement(str(r["find"]), str(r["replace"]), int(r["count"]), str(r["why"]))
            for r in data["replacements"]
        )
        return Patch(
            str(data["package"]),
            str(data["version"]),
            str(data["file"]),
            str(data["sha256"]),
            replacements,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise PatchError(f"{path}: missing or malformed field {error}") from error


def installed_version(patch: Patch, modules: Path = MODULES) -> str:
    manifest = modules / patch.package / "package.json"
    if not manifest.is_file():
        raise PatchError(f"{patch.package} is not installed in {modules}: run `make web`")
    return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])


def patched(patch: Patch, source: bytes, origin: str = "") -> bytes:
    """`source` with every replacement made, after checking it is the expected upstream."""
    digest = hashlib.sha256(source).hexdigest()
    if digest != patch.sha256:
        raise PatchError(
            f"{origin or patch.file}: sha256 {digest}, but {SPEC.name} was written for "
            f"{patch.sha256} ({patch.package} {patch.version}); read the new bundle and update "
            "the patch"
        )
    text = source.decode("utf-8")
    for number, step in enumerate(patch.replacements, 1):
        found = text.count(step.find)
        if found != step.count:
            raise PatchError(
                f"{SPEC.name}, replacement {number}: found {found} times, expected {step.count}"
            )
        text = text.replace(step.find, step.replace)
    return text.encode("utf-8")


def build(patch: Patch, modules: Path = MODULES, output: Path | None = OUTPUT) -> bytes:
    """Check the installed package and return the patched bundle; written to `output`
    unless that is None."""
    version = installed_version(patch, modules)
    if version != patch.version:
        raise PatchError(
            f"{patch.package} {version} is installed, but {SPEC.name} is for {patch.version}: "
            "read the new bundle and update the patch (or pin the version in web/package.json)"
        )
    source_path = modules / patch.package / patch.file
    result = patched(patch, source_path.read_bytes(), str(source_path))
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=".rasa-webchat.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(result)
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify only, write nothing")
    args = parser.parse_args(argv)
    try:
        patch = load()
        build(patch, output=None if args.check else OUTPUT)
    except PatchError as error:
        print(f"patch_widget: {error}", file=sys.stderr)
        return 1
    done = "checks out" if args.check else f"written to {OUTPUT.relative_to(ROOT)}"
    print(f"patch_widget: {patch.package} {patch.version} patched ({done})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
