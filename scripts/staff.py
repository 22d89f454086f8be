"""Staff commands: what the assistant recorded for the clinic to review.

    python scripts/staff.py triage [--limit N]     red flags the assistant answered, newest first
    python scripts/staff.py bookings [--limit N]   upcoming appointments, soonest first
    python scripts/staff.py handoffs [--all]       events not yet delivered to the clinic system
    python scripts/staff.py deliver                one delivery pass to the webhook now
    python scripts/staff.py purge                  apply the retention settings of clinic.yml now

Reads the same database as the action server (DATABASE_URL, else CLINIC_DB_PATH, else
var/clinic.db); `purge` also the conversations (TRACKER_DB_URL, else TRACKER_DB_PATH, else
var/tracker.db). Patients' names and contacts are shown, opened with the same key as the
action server's (CLINIC_DATA_KEY, else var/data-key): this is a staff tool.
"""

from __future__ import annotations

import argparse
import sys

from actions.records.bookings import upcoming_bookings
from actions.records.database import database_url
from actions.records.triage_log import recent_triage_events


def triage(args: argparse.Namespace) -> int:
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


def bookings(args: argparse.Namespace) -> int:
    found = upcoming_bookings(args.limit)
    if not found:
        print(f"No upcoming bookings in {database_url()}.")
        return 0
    for b in found:
        contact = ", ".join(c for c in (b.phone, b.email) if c)
        print(f"{b.starts_at:%a %Y-%m-%d %H:%M} {b.reference} {b.practitioner}")
        print(f"    {b.patient_name} ({b.patient_type}; {contact}) triage {b.triage_level}")
        print(f"    {b.reason}")
    return 0


def handoffs(args: argparse.Namespace) -> int:
    from actions.records.handoff import pending_handoffs

    items = pending_handoffs(args.limit, include_delivered=args.all)
    if not items:
        what = "hand-off events" if args.all else "pending hand-offs"
        print(f"No {what} in {database_url()}.")
        return 0
    for h in items:
        created = h["created_at"].strftime("%Y-%m-%d %H:%M")
        state = "delivered" if h["status"] == "delivered" else f"{h['attempts']} attempts"
        print(f"#{h['id']} {created} {h['kind']:<20} {h['status']:<9} {state}")
        if h["reference"]:
            moved = f" (was {h['previous_starts_at']})" if h["previous_starts_at"] else ""
            print(f"    booking {h['reference']} at {h['starts_at']}{moved}")
        contact = ", ".join(c for c in (h["phone"], h["email"]) if c)
        print(f"    {h['name']} ({contact}) triage {h['triage_level']}")
        if h["last_error"] and h["status"] != "delivered":
            print(f"    last error: {h['last_error']}; next try {h['next_attempt_at']:%H:%M:%S}")
    return 0


def deliver(args: argparse.Namespace) -> int:
    from actions.records.handoff import deliver_pending

    report = deliver_pending()
    print(report["message"])
    for error in report["errors"]:
        print(f"    #{error['id']}: {error['error']}")
    return 0 if report["url_configured"] and not report["failed"] else 1


def purge(args: argparse.Namespace) -> int:
    from actions.records.retention import purge as apply_retention
    from actions.records.retention import tracker_db_url

    print(apply_retention(tracker_url=args.tracker_db or tracker_db_url()).line())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("triage", help="red flags the assistant answered")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(run=triage)
    p = sub.add_parser("bookings", help="upcoming appointments")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(run=bookings)
    p = sub.add_parser("handoffs", help="events waiting for delivery to the clinic system")
    p.add_argument("--all", action="store_true", help="include delivered events")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(run=handoffs)
    p = sub.add_parser("deliver", help="deliver pending hand-offs to the webhook now")
    p.set_defaults(run=deliver)
    p = sub.add_parser("purge", help="delete idle conversations and old contact details now")
    p.add_argument("--tracker-db", help="the tracker store's database URL (default: see above)")
    p.set_defaults(run=purge)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
