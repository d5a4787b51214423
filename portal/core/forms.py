"""Putting a service's refusal on the form the user typed into (errors by the field, input kept)."""

from contextlib import contextmanager

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal.core.workflow import WorkflowError
from portal.extensions import db


class ActionForm(FlaskForm):
    """A button that changes something (publish, retry, start…): only the CSRF token."""


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


class _Outcome:
    ok = False

    def __bool__(self) -> bool:
        return self.ok


@contextmanager
def committed(form):
    """Run a view's one service call and commit it; a refusal lands on the form instead.

        with committed(form) as saved:
            services.update_programme(...)
        if saved:
            flash(...); return redirect(...)

    A WorkflowError goes next to its field; a constraint the checks did not foresee (or a lost race)
    becomes a form error. Either way the transaction is rolled back and the user's input stays.
    """
    outcome = _Outcome()
    try:
        yield outcome
        db.session.commit()
    except WorkflowError as exc:
        db.session.rollback()
        attach_error(form, exc)
    except (IntegrityError, DataError, StaleDataError):
        save_failed(form)
    else:
        outcome.ok = True
