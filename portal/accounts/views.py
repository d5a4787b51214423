"""STUB — replaced by the accounts helper."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)

for _name in ("login", "logout", "register", "dashboard", "settings", "keepalive"):
    bp.add_url_rule(f"/{_name}", _name, lambda: "stub", methods=["GET", "POST"])
