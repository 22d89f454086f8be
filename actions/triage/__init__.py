"""Triage and intake: the red-flag answer and the symptom check that reads a story in pieces."""
