"""STUB — replaced by the programmes helper."""
from flask import Blueprint

bp = Blueprint("programmes", __name__)
