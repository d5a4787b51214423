"""Putting a service's refusal on the form the user typed into (errors by the field, input kept)."""

from flask_babel import gettext as _

from portal.extensions import db


def attach_error(form, exc) -> None:
    """Show a service's refusal (an exception with `message` and an optional `field`) next to its
    field, or above the form when it belongs to no field."""
    field = form._fields.get(exc.field) if getattr(exc, "field", None) else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def save_failed(form) -> None:
    """The last line of defence: a constraint the checks did not foresee (or a race) is a form error."""
    db.session.rollback()
    form.form_errors.append(
        _(
            "The changes could not be saved: another change conflicts with them. "
            "Check the values and try again."
        )
    )
