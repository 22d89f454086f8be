"""Red-flag detection on tests/triage/red_flag_cases.yml: recall and false positives.

    python scripts/evaluate_triage.py [--cases FILE] [--mode patterns|encoder|both|all]
                                      [--verbose] [--sweep]

Prints, per red flag, how many of its phrasings were caught (recall), and how often it fired
on the negated or benign messages (false-positive rate); then the totals. Advice signs (tier
`soon`: see a doctor soon) are scored the same way, but a negative message that only gets
advice is counted apart, not as a false alarm: advice adds a note, it does not replace the
answer. Exit code 0.

--mode: the patterns alone (the default), the encoder's second net alone
(clinic/red_flags/similar.py), both as the assistant runs them, or all three side by side.
--sweep: recall and false alarms of both nets together for a range of thresholds on the
blind sets 1-3 (tests/triage/red_flag_blind.yml, ..2, ..3), where the threshold in
clinic/red_flags/red_flags_similar.yml is chosen: the lowest that adds no false alarm.
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


MODES = ("patterns", "encoder", "both")
SWEEP_FROM = 0.40  # the lowest threshold tried; clauses below it are not looked at closer
#: Where the second net's threshold is chosen (not the test set, not the fourth blind set).
TUNING = [ROOT / "tests" / "triage" / f"red_flag_blind{n}.yml" for n in ("", "2", "3")]


@dataclass
class Judged:
    """One message: what the patterns found, advice, and the second net's candidates."""

    text: str
    patterns: set[str]
    advice: set[str]
    candidates: list[tuple[str, float]]  # (red flag, cosine) per clause the context allows

    def flags(self, mode: str, cutoff: float) -> set[str]:
        near = {flag for flag, score in self.candidates if score >= cutoff}
        return {"patterns": self.patterns, "encoder": near, "both": self.patterns | near}[mode]


def judge(texts: list[str], with_encoder: bool) -> list[Judged]:
    from clinic.nlp import matcher
    from clinic.red_flags import detect_signs, split_signs

    m = matcher()
    net = None
    if with_encoder:
        from clinic.red_flags.similar import similarity_net

        net = similarity_net()
    out = []
    for text in texts:
        doc = m.nlp(text)
        flags, advice = split_signs(detect_signs(doc, m.nlp))
        candidates = [(f, s) for _, f, s in net.candidates(doc, SWEEP_FROM)] if net else []
        out.append(Judged(text, {h.id for h in flags}, {h.id for h in advice}, candidates))
    return out


def load_cases(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


def score(cases: dict, judged: dict[str, Judged], mode: str, cutoff: float) -> TriageScores:
    scores = TriageScores()
    for flag_id, texts in cases["positives"].items():
        for text in texts:
            scores.total[flag_id] += 1
            one = judged[text]
            found = one.flags(mode, cutoff) | one.advice
            if flag_id in found:
                scores.caught[flag_id] += 1
            else:
                scores.misses.append((flag_id, text, sorted(found)))
    for case in cases["negatives"]:
        scores.negatives += 1
        one = judged[case["text"]]
        found = one.flags(mode, cutoff)
        if one.advice and not found:
            scores.negatives_advised += 1
        if found:
            scores.negatives_flagged += 1
            scores.false_alarms.append((case["why"], case["text"], sorted(found)))
        for flag_id in found:
            scores.false_positives[flag_id] += 1
    return scores


def texts_of(cases: dict) -> list[str]:
    return [t for group in cases["positives"].values() for t in group] + [
        c["text"] for c in cases["negatives"]
    ]


def evaluate(
    cases_path: Path = DEFAULT_CASES, mode: str = "patterns", cutoff: float | None = None
) -> TriageScores:
    """Scores of one mode on one case file."""
    cases = load_cases(cases_path)
    texts = texts_of(cases)
    judged = dict(zip(texts, judge(texts, mode != "patterns"), strict=True))
    if cutoff is None and mode != "patterns":
        from clinic.red_flags.similar import threshold

        cutoff = threshold()
    return score(cases, judged, mode, cutoff or 0.0)


def sweep(paths: list[Path]) -> list[tuple[float, int, int, int, int]]:
    """(threshold, caught, positives, false alarms, negatives) of both nets over `paths`."""
    cases = [load_cases(p) for p in paths]
    texts = [t for c in cases for t in texts_of(c)]
    judged = dict(zip(texts, judge(texts, True), strict=True))
    rows = []
    for step in range(round(SWEEP_FROM * 100), 91, 2):
        cutoff = step / 100
        totals = [score(c, judged, "both", cutoff) for c in cases]
        rows.append(
            (
                cutoff,
                sum(sum(s.caught.values()) for s in totals),
                sum(sum(s.total.values()) for s in totals),
                sum(s.negatives_flagged for s in totals),
                sum(s.negatives for s in totals),
            )
        )
    return rows


def print_scores(s: TriageScores, verbose: bool) -> None:
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
    if verbose:
        for flag_id, text, found in s.misses:
            print(f"MISS  {flag_id}: {text!r} -> {found}")
        for why, text, found in s.false_alarms:
            print(f"FALSE {why}: {text!r} -> {found}")


def main(argv=None) -> int:
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--mode", choices=[*MODES, "all"], default="patterns")
    parser.add_argument("--verbose", action="store_true", help="list misses and false alarms")
    parser.add_argument("--sweep", action="store_true", help="choose the encoder's threshold")
    args = parser.parse_args(argv)
    if args.mode == "patterns" and not args.sweep:
        import scripts._no_tensorflow  # noqa: F401  (the patterns alone need no TensorFlow)
    if args.sweep:
        print("both nets on the blind sets 1-3: threshold, recall, false alarms")
        for cutoff, caught, total, flagged, negatives in sweep(TUNING):
            print(f"  {cutoff:.2f}  {caught:>3}/{total:<3} {flagged:>3}/{negatives:<3}")
        return 0
    for mode in MODES if args.mode == "all" else (args.mode,):
        print(f"--- {mode}")
        print_scores(evaluate(args.cases, mode), args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
