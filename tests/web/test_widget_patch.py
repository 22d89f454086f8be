"""The build-time patch of rasa-webchat (web/patches/rasa-webchat.yml, scripts/patch_widget.py):
tied to the one upstream bundle it was written for, so an upgrade fails here until someone
has read the new bundle; and what `make web` serves has nothing that calls a third party."""

from __future__ import annotations

import json
import re

import pytest

from scripts.patch_widget import MODULES, OUTPUT, PatchError, build, load, patched
from tests.helpers import ROOT

pytestmark = pytest.mark.browser  # needs the installed widget (make web)


@pytest.fixture(scope="module")
def patch():
    if not (MODULES / "rasa-webchat" / "package.json").is_file():
        pytest.fail("web/node_modules is missing: run `make web` (make test does)")
    return load()


def test_the_patch_is_for_the_pinned_and_installed_version(patch):
    pinned = json.loads((ROOT / "web" / "package.json").read_text())["dependencies"]
    locked = json.loads((ROOT / "web" / "package-lock.json").read_text())["packages"]
    installed = json.loads((MODULES / "rasa-webchat" / "package.json").read_text())["version"]
    assert pinned[patch.package] == patch.version
    assert locked[f"node_modules/{patch.package}"]["version"] == patch.version
    assert installed == patch.version, (
        f"rasa-webchat {installed} is installed, the patch is for {patch.version}: read the new "
        "bundle, then update web/patches/rasa-webchat.yml"
    )


def test_the_served_bundle_is_the_patched_upstream_one(patch):
    assert OUTPUT.is_file(), "build/web/rasa-webchat.js is missing: run `make web`"
    assert OUTPUT.read_bytes() == build(patch, output=None)


def test_the_served_bundle_names_no_third_party_stylesheet_or_font(patch):
    served = OUTPUT.read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in served
    assert not re.search(r"@import\s+url\(\s*['\"]?https?:", served)


def test_another_upstream_bundle_is_refused(patch):
    upstream = (MODULES / patch.package / patch.file).read_bytes()
    with pytest.raises(PatchError, match="sha256"):
        patched(patch, upstream + b"\n// a newer release")


def test_a_replacement_found_a_different_number_of_times_is_refused(patch):
    import dataclasses

    step = dataclasses.replace(patch.replacements[0], count=patch.replacements[0].count + 1)
    wrong = dataclasses.replace(patch, replacements=(step,))
    upstream = (MODULES / patch.package / patch.file).read_bytes()
    with pytest.raises(PatchError, match="found 11 times, expected 12"):
        patched(wrong, upstream)


def test_another_installed_version_is_refused(patch, tmp_path):
    package = tmp_path / patch.package
    package.mkdir()
    (package / "package.json").write_text(json.dumps({"version": "1.0.2"}))
    with pytest.raises(PatchError, match=r"1\.0\.2 is installed"):
        build(patch, modules=tmp_path, output=None)
