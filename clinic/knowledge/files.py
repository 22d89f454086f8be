"""Reading the project's YAML files: the knowledge base and the side files beside the code.

One reader for both, so a broken file is reported the same way wherever it lives: by path,
with what is wrong, as a KnowledgeBaseError.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml


class KnowledgeBaseError(ValueError):
    """A knowledge-base file is malformed; the message names the file and the entry."""


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping at the top of `path`, or a KnowledgeBaseError naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KnowledgeBaseError(f"{path}: file is missing") from None
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{path}: expected a mapping at the top level")
    return data


@functools.cache
def _side_yaml(path: Path) -> dict[str, Any]:
    return read_yaml(path)


def side_yaml(module_file: str, name: str) -> dict[str, Any]:
    """The YAML file `name` kept beside the module `module_file` (pass `__file__`): its
    wording or vocabulary, read once per process."""
    return _side_yaml(Path(module_file).resolve().with_name(name))
