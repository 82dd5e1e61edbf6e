"""Texts out and in: the Twilio gateway, its sandbox twin, and exactly-once sending."""
