"""Evaluation forms, one module per stage (committee, checks, scoring, results)."""
