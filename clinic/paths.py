"""Where the project's files are: the repository root, found from this package."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    """Run-time files (token, tracker database, generated configs): CLINIC_VAR_DIR, else
    var/ in the repository."""
    return Path(os.environ.get("CLINIC_VAR_DIR") or ROOT / "var").resolve()


def tracker_db_path() -> Path:
    """The SQLite tracker store's file that `make run` uses: TRACKER_DB_PATH, else
    tracker.db in var_dir()."""
    return Path(os.environ.get("TRACKER_DB_PATH") or var_dir() / "tracker.db").resolve()
