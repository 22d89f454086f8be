"""`make eval`: train the NLU from scratch with the config's seeds and measure it on text we
did not train on, then write reports/nlu/ (JSON, Markdown summary, confusion matrices).

    python scripts/nlu_report.py [--folds 5] [--no-cv] [--model models/x.tar.gz] [--out reports/nlu]

Three measurements:
1. the held-out sets (tests/nlu_holdout*.yml), written apart from the training data;
2. k-fold cross-validation on the training data (stratified on full intents, seeded);
3. every file in ../shared/eval/ (other people's questions): question type, condition
   recognition and out-of-scope rejection, read through scripts/nlu_report.yml.
Nothing from ../shared/eval/ is ever written into training data: the files are only parsed.

About 580 lines on purpose: one report script whose three measurements share the training
runs, the scoring and the report writer; apart they would only ever run together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from scripts.evaluate_nlu import Example, Scores, full_intent, load_examples, score

ROOT = Path(__file__).resolve().parent.parent

EVAL_DIR = ROOT.parent / "shared" / "eval"
HOLDOUT = sorted((ROOT / "tests").glob("nlu_holdout*.yml"))
SEED = 2026
CONFIG = ROOT / "config.yml"
MAPPINGS = yaml.safe_load((Path(__file__).with_suffix(".yml")).read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- training


def train_nlu(nlu: Path, out: Path, name: str, config: Path = CONFIG) -> Path:
    """Train an NLU-only model in a child process with an empty cache, so nothing is reused
    from an earlier training (from scratch) and TensorFlow's memory goes with the process."""
    with tempfile.TemporaryDirectory(prefix="rasa-cache-") as cache:
        env = {**os.environ, "RASA_CACHE_DIRECTORY": cache}
        cmd = [
            str(ROOT / ".venv" / "bin" / "rasa"),
            "train",
            "nlu",
            "--config",
            str(config),
            "--domain",
            str(ROOT / "domain"),
            "--nlu",
            str(nlu),
            "--out",
            str(out),
            "--fixed-model-name",
            name,
        ]
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
            raise SystemExit(f"training failed: {' '.join(cmd)}")
    return out / f"{name}.tar.gz"


def load_agent(model: Path):
    from rasa.core.agent import Agent

    return Agent.load(str(model))


def parse_all(agent, texts: list[str]) -> list[dict]:
    async def run() -> list[dict]:
        return [await agent.parse_message(t) for t in texts]

    return asyncio.run(run())


# ----------------------------------------------------------------------------- held-out + CV


def cross_validate(folds: int, workdir: Path, config: Path = CONFIG) -> dict[str, Any]:
    """Stratified k-fold CV on data/nlu: train on k-1 folds, parse the k-th, pool the scores."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    data = load_data(str(ROOT / "data" / "nlu"))
    examples = data.intent_examples
    labels = [m.get_full_intent() for m in examples]
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    pooled_examples: list[Example] = []
    pooled_parses: list[dict] = []
    per_fold = []
    for i, (train_idx, test_idx) in enumerate(split.split(examples, labels), start=1):
        started = time.monotonic()
        train = TrainingData(
            training_examples=[examples[j] for j in train_idx],
            entity_synonyms=data.entity_synonyms,
            regex_features=data.regex_features,
            lookup_tables=data.lookup_tables,
        )
        fold_dir = workdir / f"fold{i}"
        fold_dir.mkdir(parents=True, exist_ok=True)
        RasaYAMLWriter().dump(fold_dir / "nlu.yml", train)
        agent = load_agent(train_nlu(fold_dir / "nlu.yml", fold_dir, "model", config))
        test = [
            Example(
                text=examples[j].get("text"),
                intent=labels[j],
                entities={
                    (e["entity"], str(e["value"])) for e in examples[j].get("entities") or []
                },
            )
            for j in test_idx
        ]
        parses = parse_all(agent, [e.text for e in test])
        fold = score(test, parses)
        per_fold.append(
            {
                "fold": i,
                "intent_macro_f1": fold.intent_macro_f1,
                "entity_f1": fold.entity_f1,
                "seconds": time.monotonic() - started,
            }
        )
        print(
            f"  cv fold {i}/{folds}: intent macro-F1 {fold.intent_macro_f1:.3f}, "
            f"entity F1 {fold.entity_f1:.3f} ({per_fold[-1]['seconds']:.0f} s)",
            flush=True,
        )
        pooled_examples += test
        pooled_parses += parses
    pooled = score(pooled_examples, pooled_parses)
    sweep = threshold_sweep([e.intent for e in pooled_examples], pooled_parses)
    f1s = [f["intent_macro_f1"] for f in per_fold]
    return {
        "folds": per_fold,
        "pooled": pooled,
        "intent_macro_f1_mean": statistics.mean(f1s),
        "intent_macro_f1_sd": statistics.pstdev(f1s),
        "examples": len(examples),
        "fallback_sweep": sweep,
    }


# ----------------------------------------------------------------------------- external sets


def read_external(directory: Path) -> list[dict]:
    """Every row of ../shared/eval/*.jsonl; rows that repeat another file's row are marked."""
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            row["file"] = path.name
            row["repeat"] = bool(row.get("also_in_liveqa") or row.get("duplicate_of"))
            rows.append(row)
    return rows


def _labels(row: dict) -> list[str]:
    label = row.get("label")
    if label is None:
        return []
    return [str(x).lower() for x in (label if isinstance(label, list) else [label])]


def _foci(row: dict) -> list[str]:
    focus = row.get("focus")
    if focus is None:
        return []
    return [
        " ".join(str(x).lower().split()) for x in (focus if isinstance(focus, list) else [focus])
    ]


def classifier_intent(parse: dict) -> str | None:
    """The intent under a red-flag override: the question type the person asked."""
    if (parse.get("intent") or {}).get("name") != "red_flag":
        return full_intent(parse)
    for ranked in parse.get("intent_ranking") or []:
        if ranked.get("name") != "red_flag":
            return ranked.get("name")
    return None


#: How a row answered with the red-flag reply was reviewed (scripts/nlu_report.yml).
REVIEWS = ("sign", "other", "unreviewed")


def red_flag_review(row: dict) -> str:
    """Whether a row answered with the urgent red-flag reply describes a red-flag sign itself
    ("sign"), does not ("other"), or has not been reviewed by hand yet ("unreviewed")."""
    reviewed = (MAPPINGS.get("red_flag_replies_reviewed") or {}).get(row["file"]) or {}
    found = reviewed.get(str(row.get("id")))
    if found is None:
        return "unreviewed"
    return "sign" if found["sign"] else "other"


def _rate(hits: int, total: int) -> dict[str, Any]:
    return {"rate": hits / total if total else None, "hits": hits, "total": total}


def external_scores(rows: list[dict], parses: list[dict]) -> dict[str, Any]:
    """Rejection per tier, question type and entity recognition on the in-domain rows."""
    rejected_names = set(MAPPINGS["rejected_intents"])
    qt = MAPPINGS["question_types"]
    out: dict[str, Any] = {"rejected": {}, "by_file": {}, "errors": []}
    counters: dict[str, Counter] = {}
    for row, parse in zip(rows, parses, strict=True):
        intent = full_intent(parse)
        row["predicted"] = intent
        row["ranking"] = [
            (r.get("name"), round(float(r.get("confidence") or 0), 3))
            for r in (parse.get("intent_ranking") or [])[:3]
        ]
        row["entities"] = sorted(
            {f"{e['entity']}:{e['value']}" for e in parse.get("entities") or []}
        )
        if row["repeat"]:
            continue
        tier = row["tier"]
        is_rejected = intent in rejected_names
        c = counters.setdefault(tier, Counter())
        c["total"] += 1
        c["rejected"] += is_rejected
        c["red_flag"] += intent == "red_flag"
        if intent == "red_flag":
            c[f"red_flag_{red_flag_review(row)}"] += 1
        f = out["by_file"].setdefault(row["file"], {}).setdefault(tier, Counter())
        f["total"] += 1
        f["rejected"] += is_rejected
        if (tier == "out_of_scope") != is_rejected and tier in ("in_domain", "out_of_scope"):
            out["errors"].append(
                {
                    "kind": f"{tier} {'rejected' if is_rejected else 'accepted'}",
                    "file": row["file"],
                    "text": row["text"][:300],
                    "predicted": intent,
                }
            )
    for tier, c in counters.items():
        out["rejected"][tier] = _rate(c["rejected"], c["total"])
        out["rejected"][tier]["red_flag"] = c["red_flag"]
        for review in REVIEWS:
            out["rejected"][tier][f"red_flag_{review}"] = c[f"red_flag_{review}"]
    if "out_of_scope" in counters:
        c = counters["out_of_scope"]
        out["out_of_scope_handled"] = _rate(c["rejected"] + c["red_flag_sign"], c["total"])
    out["by_file"] = {
        name: {tier: _rate(c["rejected"], c["total"]) for tier, c in tiers.items()}
        for name, tiers in out["by_file"].items()
    }
    in_domain = [
        (r, p)
        for r, p in zip(rows, parses, strict=True)
        if r["tier"] == "in_domain" and not r["repeat"]
    ]
    treatment_foci = set(MAPPINGS["focus"]["treatment"]) | set(MAPPINGS["care_foci"])
    for group in ("headline", "extra"):
        hits = total = 0
        for row, parse in in_domain:
            wanted = {qt[group][lab] for lab in _labels(row) if lab in qt[group]}
            if wanted and group == "headline" and set(_foci(row)) & treatment_foci:
                alt = qt["when_focus_is_treatment"]
                wanted |= {alt[lab] for lab in _labels(row) if lab in alt}
            if not wanted:
                continue
            total += 1
            got = classifier_intent(parse)
            hits += got in wanted
            if got not in wanted:
                out["errors"].append(
                    {
                        "kind": f"question type ({group})",
                        "file": row["file"],
                        "text": row["text"][:300],
                        "expected": sorted(wanted),
                        "predicted": got,
                    }
                )
        out[f"question_type_{group}"] = _rate(hits, total)
    for kind, table in MAPPINGS["focus"].items():
        hits = total = 0
        for row, parse in in_domain:
            wanted = {table[f] for f in _foci(row) if f in table}
            if not wanted:
                continue
            total += 1
            found = {str(e["value"]) for e in parse.get("entities") or [] if e["entity"] == kind}
            hits += bool(wanted & found)
            if not wanted & found:
                out["errors"].append(
                    {
                        "kind": f"{kind} not recognised",
                        "file": row["file"],
                        "text": row["text"][:300],
                        "expected": sorted(wanted),
                        "found": sorted(found),
                    }
                )
        out[f"{kind}_recognition"] = _rate(hits, total)
    return out


# ----------------------------------------------------------------------------- fallback


THRESHOLDS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
AMBIGUITY = [0.0, 0.05, 0.1, 0.15]
REJECTED = set(MAPPINGS["rejected_intents"])


def classifier_ranking(parse: dict) -> list[tuple[str, float]]:
    """DIET's ranking, without the fallback and red-flag entries the later components add."""
    return [
        (r["name"], float(r.get("confidence") or 0))
        for r in parse.get("intent_ranking") or []
        if r.get("name") not in ("nlu_fallback", "red_flag")
    ]


def simulated(parse: dict, threshold: float, ambiguity: float) -> str | None:
    """The intent Rasa's FallbackClassifier would leave with these thresholds."""
    ranking = classifier_ranking(parse)
    if not ranking:
        return "nlu_fallback"
    top = ranking[0]
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    if top[1] < threshold or top[1] - second < ambiguity:
        return "nlu_fallback"
    return top[0]


def threshold_sweep(gold: list[str], parses: list[dict]) -> dict[str, Any]:
    """Accuracy for each (threshold, ambiguity) pair on out-of-fold predictions, where a
    rejection is right for out_of_scope examples and wrong for every other one. The best pair
    (ties: the higher threshold, the safer choice) is what config.yml should use."""
    table = []
    for t in THRESHOLDS:
        for a in AMBIGUITY:
            right = wrongly_rejected = in_scope = 0
            for g, parse in zip(gold, parses, strict=True):
                intent = simulated(parse, t, a)
                top = g.split("/", 1)[0]
                if top == "out_of_scope":
                    right += intent in REJECTED
                else:
                    in_scope += 1
                    right += intent == top
                    wrongly_rejected += intent in REJECTED
            table.append(
                {
                    "threshold": t,
                    "ambiguity": a,
                    "accuracy": right / len(gold),
                    "in_scope_rejected": wrongly_rejected / max(in_scope, 1),
                }
            )
    best = max(table, key=lambda r: (round(r["accuracy"], 3), r["threshold"], r["ambiguity"]))
    return {"table": table, "best": best}


# ----------------------------------------------------------------------------- reports


def confusion_png(scores: Scores, title: str, path: Path) -> None:
    """A confusion matrix of the intents (rows: true, columns: predicted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    gold = [g.split("/", 1)[0] for g in scores.gold]
    pred = [p.split("/", 1)[0] if p else p for p in scores.pred]
    labels = sorted(set(gold) | {p or "None" for p in pred})
    matrix = confusion_matrix(gold, [p or "None" for p in pred], labels=labels)
    size = max(8, 0.28 * len(labels))
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=6)
    ax.set_yticks(range(len(labels)), labels, fontsize=6)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                colour = "white" if matrix[i, j] > matrix.max() / 2 else "black"
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=5, color=colour)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _red_flag_lines(ext: dict[str, Any]) -> list[str]:
    """Out-of-scope rows sent to urgent care, apart: handled when they describe a red flag."""
    oos = ext["rejected"].get("out_of_scope")
    if not oos or "out_of_scope_handled" not in ext:
        return []
    return [
        f"external out_of_scope rows answered with the red-flag reply: {oos['red_flag']} "
        f"({oos['red_flag_sign']} describe a red-flag sign, {oos['red_flag_other']} do not, "
        f"{oos['red_flag_unreviewed']} not reviewed; scripts/nlu_report.yml)",
        _fmt_rate(
            "external out_of_scope rows handled (rejected, or a red-flag sign sent to urgent care)",
            ext["out_of_scope_handled"],
        ),
    ]


def _fmt_rate(name: str, r: dict) -> str:
    if not r["total"]:
        return f"{name}: n/a"
    return f"{name}: {r['rate']:.3f} ({r['hits']}/{r['total']})"


def _score_lines(prefix: str, d: dict[str, Any]) -> list[str]:
    return [
        f"{prefix} intent macro-F1: {d['intent_macro_f1']:.3f} "
        f"({d['examples']} examples, {d['intents']} intents)",
        f"{prefix} intent accuracy: {d['intent_accuracy']:.3f}",
        f"{prefix} FAQ selection accuracy: {d['faq_accuracy']:.3f}"
        if d.get("faq_accuracy") is not None
        else f"{prefix} FAQ selection accuracy: n/a",
        f"{prefix} macro-F1 with each FAQ as an intent: {d.get('full_macro_f1', float('nan')):.3f}",
        f"{prefix} entity F1: {d['entity_f1']:.3f} (precision {d['entity_precision']:.3f}, "
        f"recall {d['entity_recall']:.3f})",
    ]


EXTERNAL_FIGURES = [
    ("question_type_headline", "in-domain question type (information/causes/symptoms/treatment)"),
    ("question_type_extra", "in-domain question type (outlook/tests/see a doctor/prevention)"),
    ("condition_recognition", "in-domain condition recognition"),
    ("treatment_recognition", "in-domain treatment recognition"),
]


def figure_lines(report: dict[str, Any]) -> list[str]:
    """One line per figure, as printed and as in the Markdown summary."""
    lines = _score_lines("held-out", report["holdout"])
    if "cv" in report:
        cv = report["cv"]
        lines += _score_lines(f"{cv['k']}-fold CV", cv)
        lines.append(
            f"{cv['k']}-fold CV intent macro-F1 per fold: mean {cv['intent_macro_f1_mean']:.3f}"
            f" ± {cv['intent_macro_f1_sd']:.3f}"
        )
        best = (cv.get("fallback_sweep") or {}).get("best")
        if best:
            lines.append(
                f"fallback thresholds picked on CV: threshold {best['threshold']}, ambiguity "
                f"{best['ambiguity']} (CV accuracy {best['accuracy']:.3f}, in-scope rejected "
                f"{best['in_scope_rejected']:.3f}); config.yml has {report.get('config_fallback')}"
            )
    ext = report.get("external")
    if ext:
        lines += [_fmt_rate(f"external {label}", ext[key]) for key, label in EXTERNAL_FIGURES]
        for tier in ("out_of_scope", "in_domain", "adjacent", "related"):
            if tier in ext["rejected"]:
                lines.append(_fmt_rate(f"external {tier} rows rejected", ext["rejected"][tier]))
        lines += _red_flag_lines(ext)
        for name, tiers in sorted(ext["by_file"].items()):
            for tier in ("in_domain", "out_of_scope"):
                if tier in tiers:
                    lines.append(_fmt_rate(f"  {name} {tier} rejected", tiers[tier]))
    return lines


def _intent_table(per_intent: dict[str, Any]) -> list[str]:
    rows = ["| intent | precision | recall | F1 | n |", "| --- | --- | --- | --- | --- |"]
    for name, r in sorted(per_intent.items()):
        if isinstance(r, dict) and "support" in r and not name.endswith(" avg"):
            rows.append(
                f"| {name} | {r['precision']:.2f} | {r['recall']:.2f} | "
                f"{r['f1-score']:.2f} | {int(r['support'])} |"
            )
    return rows


def _model_line(report: dict[str, Any]) -> str:
    """How the model scored came to be: trained here, or given with --model."""
    if report.get("given_model"):
        return f"the model given, {report['model']}, pipeline {report['config']}"
    return (
        f"model trained from scratch in {report['train_seconds']:.0f} s with "
        f"{report['config']}'s seeds"
    )


def write_reports(report: dict[str, Any], holdout: Scores, cv: Scores | None, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    confusion_png(holdout, "held-out sets: intents", out / "confusion_holdout.png")
    if cv is not None:
        confusion_png(cv, "cross-validation: intents", out / "confusion_cv.png")
    md = [
        "# NLU evaluation",
        "",
        f"Written by `make eval` ({report['date']}, {_model_line(report)}).",
        "",
        "## Figures",
        "",
    ]
    md += [f"- {line.strip()}" for line in figure_lines(report)]
    md += ["", "## Per intent (held-out)", "", *_intent_table(report["holdout"]["per_intent"])]
    md += ["", "## Held-out errors", ""]
    md += [
        f'- "{e["text"]}": expected {e["intent"]}, got {e["predicted"]}'
        + (f"; missed {e['missed_entities']}" if e["missed_entities"] else "")
        + (f"; extra {e['extra_entities']}" if e["extra_entities"] else "")
        for e in report["holdout"]["errors"]
    ]
    if report.get("external"):
        md += ["", "## External errors", ""]
        for e in report["external"]["errors"]:
            got = e.get("predicted", e.get("found"))
            md.append(f'- [{e["kind"]}] {e["file"]}: "{e["text"][:160]}" → {got}')
    md += [
        "",
        "Confusion matrices: `confusion_holdout.png`" + (", `confusion_cv.png`." if cv else "."),
    ]
    (out / "summary.md").write_text("\n".join(md) + "\n", encoding="utf-8")


def scores_dict(s: Scores, examples: int) -> dict[str, Any]:
    d = {k: v for k, v in s.__dict__.items() if k not in ("gold", "pred")}
    d["examples"] = examples
    d["intents"] = len({g.split("/", 1)[0] for g in s.gold})
    d["faqs"] = len({g for g in s.gold if "/" in g})
    return d


def configured_fallback(path: Path = CONFIG) -> str:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"] == "FallbackClassifier":
            threshold, ambiguity = component.get("threshold"), component.get("ambiguity_threshold")
            return f"threshold {threshold}, ambiguity {ambiguity}"
    return "no FallbackClassifier"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-cv", action="store_true", help="skip cross-validation")
    parser.add_argument("--model", type=Path, help="score this model instead of training one")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "nlu")
    parser.add_argument("--external", type=Path, default=EVAL_DIR, help="the external sets")
    parser.add_argument("--config", type=Path, default=CONFIG, help="the pipeline to train")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    import rasa.utils.log_utils as log_utils

    log_utils.configure_structlog(logging.WARNING)
    logging.basicConfig(level=logging.WARNING)

    work = ROOT / "build" / "eval" / args.out.name  # one per report: the kept and the alternative
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    model = args.model or train_nlu(ROOT / "data" / "nlu", work, "nlu", args.config)
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "model": str(model),
        "train_seconds": time.monotonic() - started,
        "given_model": bool(args.model),
        "config": str(
            args.config.relative_to(ROOT) if args.config.is_relative_to(ROOT) else args.config
        ),
        "config_fallback": configured_fallback(args.config),
    }
    print(f"model: {model} ({report['train_seconds']:.0f} s)", flush=True)
    agent = load_agent(model)

    examples = [e for path in HOLDOUT for e in load_examples(path)]
    holdout = score(examples, parse_all(agent, [e.text for e in examples]))
    report["holdout"] = scores_dict(holdout, len(examples))
    report["holdout"]["files"] = [str(p.relative_to(ROOT)) for p in HOLDOUT]

    if args.external.is_dir():
        rows = read_external(args.external)
        parses = parse_all(agent, [r["text"] for r in rows])
        report["external"] = external_scores(rows, parses)
        report["external_rows"] = [
            {
                k: r.get(k)
                for k in (
                    "file",
                    "id",
                    "tier",
                    "label",
                    "focus",
                    "repeat",
                    "predicted",
                    "ranking",
                    "entities",
                )
            }
            for r in rows
        ]
    else:
        print(f"(no external sets: {args.external} is missing)")

    cv_scores = None
    if not args.no_cv:
        cv = cross_validate(args.folds, work / "cv", args.config)
        cv_scores = cv.pop("pooled")
        report["cv"] = {**scores_dict(cv_scores, cv["examples"]), **cv, "k": args.folds}

    write_reports(report, holdout, cv_scores, args.out)
    for line in figure_lines(report):
        print(line)
    print(f"reports: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
