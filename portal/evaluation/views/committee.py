"""Placeholder: filled in by the committee work."""
