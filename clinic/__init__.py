"""The shared core: what both the Rasa server (`addons/`) and the action server (`actions/`)
need, importing neither `rasa` nor `rasa_sdk` (tests/test_architecture.py checks).

- `knowledge`: the knowledge base's schema, loading and side-file reader
- `nlp`: the project's spaCy pipeline and the knowledge-base matcher
- `red_flags`: red-flag and symptom detection with negation and context
- `intake`: reading a person's story in pieces (the `Case`)
- `subject`: what a follow-up question is about
- `parsing`: time preferences, contact details, names and booking references
- `availability`: appointment-slot arithmetic
- `knowledge.wording`: filling templates with the clinic's placeholders
- `privacy`: redaction for logs
"""
