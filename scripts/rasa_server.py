"""`rasa` with contact details redacted from its logs and the serving guards installed.

`make run` starts each Rasa server through this wrapper so that a phone number or an email a
patient typed never reaches logs/rasa.log in clear text, whatever the log level
(clinic/privacy.py), so that every message passes the input limits and fault replies of
addons/serving.py, and with a 2 MB bound on request bodies.
"""

from __future__ import annotations

import os
import sys

#: Sanic refuses larger request bodies with 413 before reading them (its default is 100 MB).
#: Above the longest message the limits allow (clinic/limits.py), with room for JSON escapes.
MAX_REQUEST_BYTES = 2_000_000


def main() -> None:
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(MAX_REQUEST_BYTES))
    from clinic.privacy import install_log_redaction

    install_log_redaction()
    from addons.serving import install

    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
