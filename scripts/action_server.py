"""Start the custom action server on loopback, with the knowledge base checked first.

Loading the knowledge base and the spaCy pipeline before serving means a broken YAML edit
stops the server at start-up with the file and entry named, rather than failing a user's
conversation later. TensorFlow is kept out of this process (it is not used here).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import scripts._no_tensorflow  # noqa: F401  (before spaCy)

ROOT = Path(__file__).resolve().parent.parent


def freeze_what_loading_made() -> None:
    """The spaCy pipeline, the knowledge base and the actions are loaded for good; moved
    out of the garbage collector's sight (`gc.freeze`) they are no longer walked by each
    full collection, which took 50-90 ms and held up every patient waiting on an action
    (a turn-50 reply 120-180 ms instead of 45 ms, `make bench`)."""
    import gc
    import importlib
    import pkgutil

    import actions

    for module in pkgutil.walk_packages(actions.__path__, "actions."):
        importlib.import_module(module.name)  # as rasa_sdk will, so that they are frozen too
    gc.collect()
    gc.freeze()


def main() -> int:
    from clinic.knowledge import KnowledgeBaseError, knowledge
    from clinic.nlp import matcher

    try:
        knowledge()
        matcher()
    except (KnowledgeBaseError, FileNotFoundError) as exc:
        print(f"action server not started: {exc}", file=sys.stderr)
        return 1
    os.environ.setdefault("SANIC_HOST", "127.0.0.1")
    from actions.records.handoff import start_worker
    from clinic.privacy import install_log_redaction

    install_log_redaction()  # no phone number or email in clear text in the logs, at any level

    start_worker()  # delivers the hand-off outbox to the clinic's webhook in the background
    from actions.records.retention import start_retention

    start_retention()  # knowledge/clinic.yml `retention`, applied at start and every 24 h
    freeze_what_loading_made()
    from rasa_sdk.__main__ import main as rasa_sdk_main

    sys.argv = [sys.argv[0], "--actions", "actions", *sys.argv[1:]]
    rasa_sdk_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
