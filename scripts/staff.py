"""Staff commands: what the assistant recorded for the clinic to review.

    python scripts/staff.py triage [--limit N]     red flags the assistant answered, newest first

Reads the same database as the action server (DATABASE_URL, else CLINIC_DB_PATH, else
var/clinic.db).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actions.storage import database_url, recent_triage_events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    triage = sub.add_parser("triage", help="red flags the assistant answered")
    triage.add_argument("--limit", type=int, default=50)
    args = parser.parse_args(argv)
    events = recent_triage_events(args.limit)
    if not events:
        print(f"No red flags recorded in {database_url()}.")
        return 0
    for e in events:
        when = e["created_at"].strftime("%Y-%m-%d %H:%M")
        level, flags, conversation = e["level"].upper(), e["flags"], e["conversation_id"]
        print(f"#{e['id']} {when} {level:<9} {flags:<32} conversation {conversation}")
        print(f'    "{e["message"]}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
