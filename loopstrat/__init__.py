"""Loopstrat: text every home-service lead back within seconds, safely."""
