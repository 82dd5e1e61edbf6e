"""Leads: intake from forms and APIs, and the first reply."""
