"""The staff console: the clinic's own view of what the assistant recorded.

Served by the clinic page's web server (scripts/web.py) under /staff/, for staff accounts
only. It imports the records (`actions.records`) and the shared core (`clinic`), never Rasa
or the Rasa server's add-ons, so it runs in the small web process.
"""
