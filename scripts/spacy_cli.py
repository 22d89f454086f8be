"""spaCy's command line without TensorFlow (see scripts/_no_tensorflow.py):
`python scripts/spacy_cli.py project run kb`."""

from spacy.cli import setup_cli

import scripts._no_tensorflow  # noqa: F401

if __name__ == "__main__":
    setup_cli()
