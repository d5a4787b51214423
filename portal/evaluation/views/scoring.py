"""Placeholder: filled in by the scoring work."""
