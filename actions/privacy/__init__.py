"""The patient's control of their data: "delete my data" and "what do you know about me?"."""
