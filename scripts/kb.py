"""Build outputs generated from the knowledge base, and a matcher for trying phrases.

    python scripts/kb.py check                  validate knowledge/*.yml
    python scripts/kb.py pipeline OUT_DIR       build the spaCy pipeline
    python scripts/kb.py nlu OUT_FILE           write NLU lookup tables and synonyms
    python scripts/kb.py faq OUT_FILE           write the FAQ responses (a domain file)
    python scripts/kb.py match "some text"      show what the built pipeline recognises

The spaCy project (`project.yml`) runs the first two when `knowledge/` changes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import scripts._no_tensorflow  # noqa: F401  (before spaCy)
from clinic.knowledge import ENTITY_LABELS, KnowledgeBaseError, load_knowledge
from clinic.knowledge.wording import render_faq
from clinic.nlp import build_pipeline, matcher, term_variants

HEADER = "# Generated from knowledge/*.yml by scripts/kb.py; edit the knowledge base instead.\n"


def write_pipeline(out: Path, kb) -> None:
    nlp = build_pipeline(kb)
    out.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    print(f"spaCy pipeline with {len(nlp.get_pipe('entity_ruler'))} patterns -> {out}")


def nlu_yaml(kb) -> str:
    """Rasa NLU lookup tables (one per entity, one per FAQ with `words`) and synonyms
    (surface form -> id)."""
    lines = [HEADER, 'version: "3.1"', "nlu:"]
    for label in ENTITY_LABELS:
        terms = sorted(
            {v for e in kb.by_label(label).values() for t in e.terms() for v in term_variants(t)}
        )
        lines += [f"- lookup: {label}", "  examples: |"] + [f"    - {t}" for t in terms]
    for faq in kb.faqs.values():
        if faq.words:
            words = sorted(set(faq.words))
            lines += [f"- lookup: faq_{faq.id}", "  examples: |"] + [f"    - {w}" for w in words]
    for _label, entry in kb.entries():
        variants = sorted({v for t in entry.terms() for v in term_variants(t)} - {entry.id})
        lines += [f"- synonym: {entry.id}", "  examples: |"] + [f"    - {v}" for v in variants]
    return "\n".join(lines) + "\n"


def faq_responses_yaml(kb) -> str:
    """Domain responses `utter_faq/<id>`: the labels the ResponseSelector learns, rendered
    from knowledge/faq.yml and clinic.yml (action_answer_faq renders the same text)."""
    import yaml

    responses = {f"utter_faq/{faq.id}": [{"text": render_faq(kb, faq)}] for faq in kb.faqs.values()}
    body = yaml.safe_dump(
        {"version": "3.1", "responses": responses}, sort_keys=False, allow_unicode=True, width=100
    )
    return HEADER + body


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--knowledge",
        type=Path,
        default=None,
        help="the knowledge directory (default: $KNOWLEDGE_DIR or knowledge/ of this checkout); "
        "project.yml passes its own, so a copied project builds from its own files",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check")
    sub.add_parser("pipeline").add_argument("out", type=Path)
    sub.add_parser("nlu").add_argument("out", type=Path)
    sub.add_parser("faq").add_argument("out", type=Path)
    sub.add_parser("match").add_argument("text", nargs="+")
    args = parser.parse_args(argv)
    try:
        kb = load_knowledge(args.knowledge)
        if args.command == "check":
            entries = sum(1 for _ in kb.entries())
            print(f"knowledge base OK: {entries} entries, {len(kb.sources)} sources")
        elif args.command == "pipeline":
            write_pipeline(args.out, kb)
        elif args.command == "nlu":
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(nlu_yaml(kb), encoding="utf-8")
            print(f"NLU lookup tables and synonyms -> {args.out}")
        elif args.command == "faq":
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(faq_responses_yaml(kb), encoding="utf-8")
            print(f"FAQ responses -> {args.out}")
        else:
            for text in args.text:
                for ent in matcher()(text):
                    kind = "fuzzy" if ent.fuzzy else "exact"
                    print(f"{text!r}: {ent.text!r} -> {ent.label}:{ent.id} ({kind})")
    except KnowledgeBaseError as exc:
        print(f"knowledge base error:\n{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
