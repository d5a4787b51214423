"""Demo data for `make run` (filled in by the demo task)."""


def seed() -> dict:
    return {}


def describe(created: dict) -> str:
    return ""
