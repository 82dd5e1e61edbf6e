"""Drafting texts from the business profile: Claude within a budget, checked, else a template."""
