"""Closing reports (issue 8)."""
