"""STUB — replaced by the organisations helper."""
from flask import Blueprint

bp = Blueprint("organisations", __name__)
bp.add_url_rule("/", "list_organisations", lambda: "stub")
