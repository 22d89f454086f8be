"""Staff commands: what the assistant recorded for the clinic to review.

    python scripts/staff.py triage [--limit N]     red flags the assistant answered, newest first
    python scripts/staff.py bookings [--limit N]   upcoming appointments, soonest first
    python scripts/staff.py handoffs [--all]       events not yet delivered to the clinic system
    python scripts/staff.py deliver                one delivery pass to the webhook now
    python scripts/staff.py purge                  apply the retention settings of clinic.yml now
    python scripts/staff.py users                  the staff console's accounts
    python scripts/staff.py add-user NAME [--password-file FILE]
                                                   a console account (password asked for)
    python scripts/staff.py remove-user NAME       delete an account, ending its sessions
    python scripts/staff.py ensure-admin           the first account, `admin` (make run does it)

Reads the same database as the action server (DATABASE_URL, else CLINIC_DB_PATH, else
var/clinic.db); `purge` also the conversations (TRACKER_DB_URL, else TRACKER_DB_PATH, else
var/tracker.db). Patients' names and contacts are shown, opened with the same key as the
action server's (CLINIC_DATA_KEY, else var/data-key): this is a staff tool.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

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


def users(args: argparse.Namespace) -> int:
    from console.accounts import users as list_users

    found = list_users()
    if not found:
        print(f"No staff accounts in {database_url()}.")
    for account in found:
        last = f"{account.last_login_at:%Y-%m-%d %H:%M} UTC" if account.last_login_at else "never"
        print(f"{account.username:<24} created {account.created_at:%Y-%m-%d}, last sign-in {last}")
    return 0


def _new_password(args: argparse.Namespace) -> str:
    """From --password-file (its first line), else asked twice without echo."""
    if args.password_file:
        lines = Path(args.password_file).read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    first = getpass.getpass(f"Password for {args.name}: ")
    if getpass.getpass("The same password again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def add_user(args: argparse.Namespace) -> int:
    from console.accounts import MIN_PASSWORD, check_username
    from console.accounts import add_user as create

    try:
        name = check_username(args.name)
        password = _new_password(args)
        create(name, password)
    except (ValueError, OSError) as error:  # AccountError is a ValueError
        print(f"Not added: {error}.", file=sys.stderr)
        return 2
    print(f"Account {name!r} added (password of at least {MIN_PASSWORD} characters, hashed).")
    return 0


def remove_user(args: argparse.Namespace) -> int:
    from console.accounts import remove_user as remove

    if not remove(args.name):
        print(f"No account named {args.name!r}.", file=sys.stderr)
        return 1
    print(f"Account {args.name!r} removed and signed out.")
    return 0


def ensure_admin(args: argparse.Namespace) -> int:
    from console.accounts import AccountError
    from console.accounts import ensure_admin as make_admin

    try:
        print(f"Staff console: {make_admin()}")
    except AccountError as error:
        print(f"Staff console: no admin account made: {error}.", file=sys.stderr)
        return 2
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
    p = sub.add_parser("users", help="the staff console's accounts")
    p.set_defaults(run=users)
    p = sub.add_parser("add-user", help="add a staff console account")
    p.add_argument("name", help="account name: letters, digits, '.', '_' or '-'")
    p.add_argument("--password-file", help="read the password from this file's first line")
    p.set_defaults(run=add_user)
    p = sub.add_parser("remove-user", help="remove a staff console account")
    p.add_argument("name")
    p.set_defaults(run=remove_user)
    p = sub.add_parser("ensure-admin", help="make the admin account if there is no account")
    p.set_defaults(run=ensure_admin)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
