"""Red-flag detection on tests/triage/red_flag_cases.yml: recall and false positives.

    python scripts/evaluate_triage.py [--cases FILE] [--verbose]

Prints, per red flag, how many of its phrasings were caught (recall), and how often it fired
on the negated or benign messages (false-positive rate); then the totals. Advice signs (tier
`soon`: see a doctor soon) are scored the same way, but a negative message that only gets
advice is counted apart, not as a false alarm: advice adds a note, it does not replace the
answer. Exit code 0.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_CASES = ROOT / "tests" / "triage" / "red_flag_cases.yml"


@dataclass
class TriageScores:
    caught: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)
    false_positives: Counter = field(default_factory=Counter)
    negatives: int = 0
    negatives_flagged: int = 0
    negatives_advised: int = 0
    misses: list = field(default_factory=list)
    false_alarms: list = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / max(1, sum(self.total.values()))

    @property
    def false_positive_rate(self) -> float:
        return self.negatives_flagged / max(1, self.negatives)


def evaluate(cases_path: Path = DEFAULT_CASES) -> TriageScores:
    import yaml

    from clinic.nlp import matcher
    from clinic.red_flags import detect_signs, split_signs

    def signs(text: str) -> tuple[set[str], set[str]]:
        m = matcher()
        flags, advice = split_signs(detect_signs(m.nlp(text), m.nlp))
        return {h.id for h in flags}, {h.id for h in advice}

    cases = yaml.safe_load(cases_path.read_text())
    scores = TriageScores()
    for flag_id, texts in cases["positives"].items():
        for text in texts:
            scores.total[flag_id] += 1
            found = set.union(*signs(text))
            if flag_id in found:
                scores.caught[flag_id] += 1
            else:
                scores.misses.append((flag_id, text, sorted(found)))
    for case in cases["negatives"]:
        scores.negatives += 1
        found, advice = signs(case["text"])
        if advice and not found:
            scores.negatives_advised += 1
        if found:
            scores.negatives_flagged += 1
            scores.false_alarms.append((case["why"], case["text"], sorted(found)))
        for flag_id in found:
            scores.false_positives[flag_id] += 1
    return scores


def main(argv=None) -> int:
    import warnings

    import scripts._no_tensorflow  # noqa: F401  (a script never needs TensorFlow; tests might)

    warnings.filterwarnings("ignore", category=DeprecationWarning)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--verbose", action="store_true", help="list misses and false alarms")
    args = parser.parse_args(argv)
    s = evaluate(args.cases)
    print(f"{'red flag':<22} {'recall':>14} {'false positives':>18}")
    for flag_id in sorted(s.total):
        fp, caught, total = s.false_positives[flag_id], s.caught[flag_id], s.total[flag_id]
        print(
            f"{flag_id:<22} {caught:>3}/{total:<3} {caught / total:>6.1%}"
            f" {fp:>5}/{s.negatives:<3} {fp / max(1, s.negatives):>6.1%}"
        )
    print(
        f"{'all':<22} {sum(s.caught.values()):>3}/{sum(s.total.values()):<3} {s.recall:>6.1%}"
        f" {s.negatives_flagged:>5}/{s.negatives:<3} {s.false_positive_rate:>6.1%}"
        "  (negatives with any red flag)"
    )
    if s.negatives_advised:
        print(
            f"{'':<22} {'':>14} {s.negatives_advised:>5}/{s.negatives:<3}"
            "  (negatives given advice only)"
        )
    if args.verbose:
        for flag_id, text, found in s.misses:
            print(f"MISS  {flag_id}: {text!r} -> {found}")
        for why, text, found in s.false_alarms:
            print(f"FALSE {why}: {text!r} -> {found}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
