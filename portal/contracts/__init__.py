"""Contracts (issue 7): generation from the programme's template, signing, amendments."""
