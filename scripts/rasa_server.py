"""`rasa` with contact details redacted from its logs and the serving guards installed.

`make run` starts each Rasa server through this wrapper so that a phone number or an email a
patient typed never reaches logs/rasa.log in clear text, whatever the log level
(clinic/privacy.py), and so that every message passes the input limits and fault replies of
addons/serving.py.
"""

from __future__ import annotations

import sys


def main() -> None:
    from clinic.privacy import install_log_redaction

    install_log_redaction()
    from addons.serving import install

    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
