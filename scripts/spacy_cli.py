"""spaCy's command line without TensorFlow (see scripts/_no_tensorflow.py):
`python scripts/spacy_cli.py project run kb`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from spacy.cli import setup_cli

import scripts._no_tensorflow  # noqa: F401

if __name__ == "__main__":
    setup_cli()
