"""Conversations: a lead's texts back, keywords, alerts, AI turns, hand-off and take-over."""
