"""Per-object access for views: anything that is not the user's answers 404, and the refusal is logged."""

from flask import abort, request
from flask_login import current_user

from portal.core.audit import security_event
from portal.extensions import db


def get_or_404(model, object_id: int, allowed, *, area: str):
    """Return the object if the current user passes `allowed(user, obj)`, else 404 (never 403)."""
    obj = db.session.get(model, object_id)
    if obj is None or not allowed(current_user, obj):
        if obj is not None:
            security_event(
                f"{area}_denied",
                object=model.__tablename__,
                object_id=object_id,
                user_id=current_user.get_id(),
            )
        abort(404)
    return obj


def require(allowed: bool, *, area: str) -> None:
    """404 unless `allowed` (a permission already evaluated for a page without one object)."""
    if not allowed:
        security_event(f"{area}_denied", path=request.path, user_id=current_user.get_id())
        abort(404)
