"""The report half of `make bench` (scripts/bench.py): the targets, their verdicts and the
printed table (rows = measures, columns = configurations).

A configuration's result is a dict: `config` (stock, project1, project2), `status`
(measured, skipped, failed, not run), `reason`, `warm_start_s`, `load` (scripts/bench_load.py
run_load), `processes` (scripts/bench_procs.py describe, per process) and
`largest_rasa_rss_mb`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

TITLES = {"stock": "stock Rasa", "project1": "project 1 replica", "project2": "project 2 replicas"}
GB = 1024.0  # MB (MiB) in a GB: memory is read from /proc in kB


@dataclass(frozen=True)
class Row:
    """One measure: its key, its title ({users} and {turns} filled in) and where it is."""

    key: str
    title: str
    path: tuple[str, ...]
    fmt: str = "{:.0f}"


ROWS: tuple[Row, ...] = (
    Row("warm_start", "warm start (s)", ("warm_start_s",), "{:.1f}"),
    Row("fresh_p50", "fresh conversation p50 (ms)", ("load", "fresh", "p50")),
    Row("fresh_p95", "fresh conversation p95 (ms)", ("load", "fresh", "p95")),
    Row("early_p50", "long conv. turns 1-10 p50 (ms)", ("load", "long", "turns_1_10", "p50")),
    Row("early_p95", "long conv. turns 1-10 p95 (ms)", ("load", "long", "turns_1_10", "p95")),
    Row("late_p50", "long conv. turns 50-60 p50 (ms)", ("load", "long", "turns_50_60", "p50")),
    Row("late_p95", "long conv. turns 50-60 p95 (ms)", ("load", "long", "turns_50_60", "p95")),
    Row(
        "users_rps",
        "{users} users x {turns} turns req/s",
        ("load", "concurrent", "req_per_s"),
        "{:.1f}",
    ),
    Row("users_p50", "{users} users p50 (ms)", ("load", "concurrent", "p50")),
    Row("users_p95", "{users} users p95 (ms)", ("load", "concurrent", "p95")),
    Row("errors", "failed requests", ("errors",)),
    Row("rasa_rss", "largest Rasa server RSS (MB)", ("largest_rasa_rss_mb",)),
    Row("total_rss", "all processes RSS (MB)", ("total_rss_mb",)),
)
ROW = {row.key: row for row in ROWS}


@dataclass(frozen=True)
class Target:
    """A goal for one row in some configurations: value <= limit (at_most) or >= limit."""

    row: str
    text: str
    applies: Callable[[str], bool]
    limit: Callable[[dict[str, dict]], float | None]
    at_most: bool = True


def _projects(config: str) -> bool:
    return config.startswith("project")


def _fixed(value: float) -> Callable[[dict[str, dict]], float | None]:
    return lambda _results: value


def _scaled(config: str, row: str, factor: float) -> Callable[[dict[str, dict]], float | None]:
    """factor times another configuration's value of `row` (None if it has none)."""

    def limit(results: dict[str, dict]) -> float | None:
        other = value(results.get(config, {}), row)
        return None if other is None else factor * other

    return limit


TARGETS: tuple[Target, ...] = (
    Target("warm_start", "≤ 30 s", _projects, _fixed(30.0)),
    Target("fresh_p95", "≤ 100 ms", _projects, _fixed(100.0)),
    Target("late_p95", "≤ 120 ms", _projects, _fixed(120.0)),
    Target("users_rps", "p1 ≥ stock", "project1".__eq__, _scaled("stock", "users_rps", 1), False),
    Target(
        "users_rps", "p2 ≥ 1.5×p1", "project2".__eq__, _scaled("project1", "users_rps", 1.5), False
    ),
    Target("rasa_rss", "≤ 1.2 GB", _projects, _fixed(1.2 * GB)),
)


def value(result: dict, row: str) -> float | None:
    """The number a result holds for `row`, or None (not measured)."""
    if result.get("status") != "measured":
        return None
    if row == "errors":
        load = result.get("load", {})
        return float(sum(phase.get("errors", 0) for phase in load.values()))
    found: Any = result
    for key in ROW[row].path:
        found = found.get(key) if isinstance(found, dict) else None
    return None if found is None else float(found)


@dataclass(frozen=True)
class Verdict:
    """A target checked in one configuration; passed is None when it could not be checked."""

    target: Target
    config: str
    value: float | None
    limit: float | None

    @property
    def passed(self) -> bool | None:
        if self.value is None or self.limit is None:
            return None
        return self.value <= self.limit if self.target.at_most else self.value >= self.limit

    def as_json(self) -> dict:
        return {
            "row": self.target.row,
            "target": self.target.text,
            "config": self.config,
            "value": self.value,
            "limit": self.limit,
            "passed": self.passed,
        }

    def describe(self, users: int | str = "N", turns: int | str = "T") -> str:
        """One line for the summary."""
        shown = ROW[self.target.row].fmt
        got = "n/a" if self.value is None else shown.format(self.value)
        limit = "n/a" if self.limit is None else shown.format(self.limit)
        title = ROW[self.target.row].title.format(users=users, turns=turns)
        sign = "≤" if self.target.at_most else "≥"
        return f"{title} [{TITLES.get(self.config, self.config)}]: {got} (target {sign} {limit})"


def verdicts(results: dict[str, dict]) -> list[Verdict]:
    """Every target in every configuration it applies to that was asked for."""
    return [
        Verdict(t, config, value(result, t.row), t.limit(results))
        for t in TARGETS
        for config, result in results.items()
        if t.applies(config)
    ]


def _cell(result: dict, row: Row, marks: dict[tuple[str, str], Verdict], first: bool) -> str:
    status = result.get("status", "not run")
    if status != "measured":
        return status if first else "-"
    got = value(result, row.key)
    text = "n/a" if got is None else row.fmt.format(got)
    verdict = marks.get((row.key, result["config"]))
    if verdict is not None and verdict.passed is not None:
        text += " ok" if verdict.passed else " FAIL"
    return text


def render_table(results: dict[str, dict], users: int, turns: int) -> str:
    """The table: one row per measure, one column per configuration, then the targets."""
    checked = verdicts(results)
    marks = {(v.target.row, v.config): v for v in checked}
    configs = list(results)
    header = ["measure", *(TITLES.get(c, c) for c in configs), "target"]
    lines = [header]
    for number, row in enumerate(ROWS):
        target = ", ".join(t.text for t in TARGETS if t.row == row.key)
        cells = [_cell(results[c], row, marks, number == 0) for c in configs]
        lines.append([row.title.format(users=users, turns=turns), *cells, target])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    for config in configs:
        if results[config].get("status") in ("skipped", "failed"):
            reason = results[config].get("reason") or "?"
            out.append(f"{TITLES.get(config, config)} {results[config]['status']}: {reason}")
    return "\n".join(out)


def render_processes(results: dict[str, dict]) -> str:
    """Memory per process and configuration: name pid RSS/peak in MB."""
    out = ["Memory after the load phases (MB, RSS / peak):"]
    for config, result in results.items():
        procs = result.get("processes") or []
        if procs:
            shown = ", ".join(
                f"{p['name']} {p['pid']} {p['rss_mb']:.0f}/{p['peak_mb']:.0f}" for p in procs
            )
            out.append(f"  {TITLES.get(config, config)}: {shown}")
    return "\n".join(out)


def summary_line(
    results: dict[str, dict],
    checked: Sequence[Verdict] | None = None,
    users: int | str = "N",
    turns: int | str = "T",
) -> str:
    """One line: how many targets passed, which failed, which configurations were skipped."""
    checked = verdicts(results) if checked is None else checked
    passed = [v for v in checked if v.passed]
    failed = [v for v in checked if v.passed is False]
    unknown = len(checked) - len(passed) - len(failed)
    line = f"bench: {len(passed)}/{len(checked)} targets met"
    if failed:
        line += "; FAIL: " + "; ".join(v.describe(users, turns) for v in failed)
    if unknown:
        line += f"; {unknown} not checked"
    missed = [
        f"{TITLES.get(c, c)} ({r['status']}: {r.get('reason') or '?'})"
        for c, r in results.items()
        if r.get("status") in ("skipped", "failed")
    ]
    if missed:
        line += "; not measured: " + ", ".join(missed)
    return line
