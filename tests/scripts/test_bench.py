"""`make bench`'s pure parts, without servers: percentiles, the turn windows of the long
conversation, /proc parsing and naming, the table (a skipped column included), the target
verdicts, and the patient messages (no red flags, no booking requests)."""

from __future__ import annotations

import pytest

from scripts.bench import chosen_configs, memory
from scripts.bench_load import MESSAGES, Tally, percentile, turn_window
from scripts.bench_procs import (
    descendants,
    label,
    missing_line,
    parse_stat,
    parse_status,
    reason_line,
)
from scripts.bench_report import render_table, summary_line, value, verdicts

STATUS = """Name:\tpython
Umask:\t0022
State:\tS (sleeping)
VmPeak:\t 4123456 kB
VmHWM:\t  934512 kB
VmRSS:\t  812300 kB
RssAnon:\t  700000 kB
Threads:\t42
"""


def test_percentile_interpolates_between_closest_ranks():
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile(range(1, 101), 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0
    assert percentile([1, 2, 3], 0) == 1 and percentile([1, 2, 3], 100) == 3
    assert percentile([], 50) is None


def test_turn_windows_count_from_one_and_include_both_ends():
    turns = [float(n) for n in range(1, 61)]
    assert turn_window(turns, 1, 10) == [float(n) for n in range(1, 11)]
    assert turn_window(turns, 50, 60) == [float(n) for n in range(50, 61)]
    assert turn_window(turns[:55], 50, 60) == [50.0, 51.0, 52.0, 53.0, 54.0, 55.0]


def test_a_failed_turn_is_left_out_but_keeps_its_place():
    turns: list[float | None] = [float(n) for n in range(1, 61)]
    turns[49] = None  # turn 50 failed
    assert turn_window(turns, 50, 60) == [float(n) for n in range(51, 61)]
    tally = Tally.of([1.0, None, 3.0])
    assert tally.latencies == [1.0, 3.0] and tally.errors == 1


def test_memory_is_read_from_a_proc_status_text():
    assert parse_status(STATUS) == {"VmRSS": 812300, "VmHWM": 934512}
    assert parse_status("Name:\tkthreadd\nState:\tS\n") == {"VmRSS": 0, "VmHWM": 0}


def test_parent_and_start_time_survive_a_command_name_with_parentheses():
    fields = ["S", "77", *["0"] * 17, "123456", "0"]  # state, ppid, ..., starttime (22nd)
    assert parse_stat(f"4242 (we (ird) name) {' '.join(fields)}") == (77, 123456)


def test_descendants_walk_every_generation():
    parents = {10: 1, 11: 10, 12: 10, 13: 11, 20: 1, 21: 20}
    assert sorted(descendants(10, parents)) == [10, 11, 12, 13]


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        ([".venv/bin/python", "/r/scripts/rasa_server.py", "run", "--model", "m"], "rasa server"),
        (["/r/.venv/bin/python", "/r/.venv/bin/rasa", "run", "--enable-api"], "rasa server"),
        (["/r/.venv/bin/python", "scripts/action_server.py", "--port", "5055"], "action server"),
        (["/r/.venv/bin/python", "/r/.venv/bin/rasa", "run", "actions"], "action server"),
        (["/r/.venv/bin/python", "scripts/run.py", "--port", "1"], "launcher"),
        (["/r/.venv/bin/python", "scripts/web.py", "--port", "8080"], "web"),
        (["nginx: worker process"], "nginx"),
        (["/usr/bin/redis-server 127.0.0.1:6380"], "redis"),
        (["postgres: checkpointer "], "postgres"),
        (["/usr/sbin/runuser", "-u", "nobody", "--", "/usr/bin/postgres", "-D", "x"], "runuser"),
        (["/usr/bin/sleep", "5"], "sleep"),
    ],
)
def test_processes_get_the_report_s_names(argv, name):
    assert label(argv, argv[0].rsplit("/", 1)[-1]) == name


def test_a_launcher_line_saying_something_is_missing_is_its_reason():
    log = "Starting ...\nnginx not found: install it for RASA_REPLICAS > 1\nStopped.\n"
    assert missing_line(log) == "nginx not found: install it for RASA_REPLICAS > 1"
    assert missing_line("Starting ...\nThe assistant is ready.\n") is None
    lacks = "RASA_REPLICAS=2 needs what this machine lacks: nginx. Install it."
    assert reason_line(f"{lacks}\n") == lacks
    assert reason_line(log) == "nginx not found: install it for RASA_REPLICAS > 1"


def test_a_launcher_that_stopped_is_summed_up_by_its_problem_not_its_goodbye():
    log = (
        "Starting the action server ...\n"
        "The rasa server did not start (timeout). Last lines of logs/rasa.log:\n"
        "  loading the model\n\nStopped.\n"
    )
    assert reason_line(log).startswith("The rasa server did not start (timeout).")
    assert reason_line("Starting ...\nStopped.\n") == "Starting ..."
    assert reason_line("") == "no output"


def measured(config: str, rps: float, fresh_p95: float, late_p95: float, rss: float) -> dict:
    load = {
        "fresh": {"n": 60, "p50": fresh_p95 / 2, "p95": fresh_p95, "errors": 0},
        "long": {
            "turns_1_10": {"n": 10, "p50": 40.0, "p95": 50.0},
            "turns_50_60": {"n": 11, "p50": late_p95 / 2, "p95": late_p95},
            "errors": 1,
        },
        "concurrent": {"n": 200, "p50": 300.0, "p95": 600.0, "errors": 0, "req_per_s": rps},
    }
    procs = [
        {"pid": 1, "name": "rasa server", "cmd": "", "rss_mb": rss, "peak_mb": rss},
        {"pid": 2, "name": "action server", "cmd": "", "rss_mb": 200.0, "peak_mb": 210.0},
    ]
    return {"config": config, "status": "measured", "warm_start_s": 21.5, "load": load}, procs


def results() -> dict[str, dict]:
    stock, stock_procs = measured("stock", 30.0, 40.0, 45.0, 600.0)
    one, one_procs = measured("project1", 25.0, 90.0, 150.0, 1300.0)
    stock.update(memory(stock_procs))
    one.update(memory(one_procs))
    skipped = {"config": "project2", "status": "skipped", "reason": "nginx not found (exit code 1)"}
    return {"stock": stock, "project1": one, "project2": skipped}


def test_memory_reports_the_largest_rasa_server_and_the_total():
    got = memory(measured("x", 1, 1, 1, 900.0)[1])
    assert got["largest_rasa_rss_mb"] == 900.0 and got["total_rss_mb"] == 1100.0
    assert [p["name"] for p in got["processes"]] == ["rasa server", "action server"]


def test_verdicts_check_the_projects_and_leave_a_skipped_one_unchecked():
    checked = {(v.target.row, v.config): v.passed for v in verdicts(results())}
    assert checked[("fresh_p95", "project1")] is True  # 90 <= 100
    assert checked[("late_p95", "project1")] is False  # 150 > 120
    assert checked[("users_rps", "project1")] is False  # 25 < stock's 30
    assert checked[("rasa_rss", "project1")] is False  # 1300 MB > 1.2 GB
    assert checked[("warm_start", "project1")] is True
    assert checked[("users_rps", "project2")] is None  # skipped: not checked
    assert not any(config == "stock" for _, config in checked)
    assert value(results()["stock"], "errors") == 1


def test_the_table_marks_verdicts_and_shows_the_skipped_column():
    table = render_table(results(), users=20, turns=10)
    lines = table.splitlines()
    assert lines[0].split("  ")[0] == "measure" and "project 2 replicas" in lines[0]
    warm = next(line for line in lines if line.startswith("warm start"))
    assert "21.5 ok" in warm and "skipped" in warm and "≤ 30 s" in warm
    late = next(line for line in lines if line.startswith("long conv. turns 50-60 p95"))
    assert "150 FAIL" in late and late.split()[-4:] == ["-", "≤", "120", "ms"]
    assert "20 users x 10 turns req/s" in table
    assert lines[-1] == "project 2 replicas skipped: nginx not found (exit code 1)"


def test_the_summary_line_counts_met_failed_and_unchecked_targets():
    line = summary_line(results())
    assert line.startswith("bench: 2/10 targets met; FAIL: ")
    assert "5 not checked" in line
    skipped = "project 2 replicas (skipped: nginx not found (exit code 1))"
    assert line.endswith(f"not measured: {skipped}")


def test_configurations_follow_only_and_replicas():
    assert chosen_configs(None, "1,2") == ["stock", "project1", "project2"]
    assert chosen_configs("project1,stock", "1,2") == ["stock", "project1"]
    with pytest.raises(SystemExit):
        chosen_configs("project3", "1,2")


def test_the_messages_hold_no_red_flags_and_no_booking_requests():
    from clinic.red_flags import advice_in, red_flags_in

    assert len(MESSAGES) >= 60
    flagged = [m for m in MESSAGES if red_flags_in(m) or advice_in(m)]
    assert not flagged
    words = ("book", "appointment", "schedule", "cancel", "slot")
    assert not [m for m in MESSAGES if any(w in m.lower() for w in words)]
