"""Connects the notify outbox to the signals of the apps below (filled in by the notify work)."""
