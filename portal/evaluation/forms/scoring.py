"""Forms of scoring: a member's score sheet for one application, and the coordinator's reason for
reopening a submitted sheet.

The sheet's fields are built from the call's quality criteria and named as the scoring service names
its problems (`score_<criterion id>`, `comment_<criterion id>`), so a refusal lands next to its field.
Nothing else that is posted is read (QUALITY C3).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectChoice, StringField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput, TextArea

from portal.core.privacy import no_personal_code

LEVELS = ("0", "1", "2", "3")
MAX_COMMENT = 5000
MAX_REASON = 2000


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def level_text(criterion, level: str, locale: str) -> str:
    """Return the criterion's descriptor of a level (0–3) in the locale, Latvian when it lacks one."""
    texts = (criterion.levels or {}).get(str(level)) or {}
    return texts.get(locale) or texts.get("lv") or ""


def score_name(criterion) -> str:
    return f"score_{criterion.id}"


def comment_name(criterion) -> str:
    return f"comment_{criterion.id}"


class ScoreSheetForm(FlaskForm):
    """The sheet's version when the page was loaded (a stale copy is refused) plus, added per criterion
    by `score_sheet_form`, a level 0–3 and a comment."""

    lock_version = IntegerField(
        _l("Version of the scores"),
        widget=HiddenInput(),
        validators=[InputRequired(), NumberRange(min=0)],
    )

    criteria: list = []

    def values(self) -> dict[int, tuple[str | None, str | None]]:
        """Return {criterion id: (level or None, comment or None)} as the scoring service takes them."""
        return {
            c.id: (self[score_name(c)].data or None, self[comment_name(c)].data or None)
            for c in self.criteria
        }


def score_sheet_form(criteria, locale: str, *, sheet=None, **kwargs) -> ScoreSheetForm:
    """Return the score sheet form for the call's quality criteria, filled from `sheet` when given (a
    posted form reads the request instead)."""

    class _Form(ScoreSheetForm):
        pass

    for criterion in criteria:
        setattr(
            _Form,
            score_name(criterion),
            RadioField(
                criterion.title(locale),
                choices=[SelectChoice(level, level_text(criterion, level, locale)) for level in LEVELS],
                validate_choice=False,  # no choice yet is a draft; a wrong one is refused below
                validators=[Optional(), AnyOf(LEVELS, message=_l("A score is a whole number from 0 to 3."))],
            ),
        )
        setattr(
            _Form,
            comment_name(criterion),
            StringField(
                _l("Comment on “%(criterion)s”", criterion=criterion.title(locale)),
                widget=TextArea(),
                filters=[_strip],
                validators=[Length(max=MAX_COMMENT), no_personal_code],
            ),
        )
    if sheet is not None and "data" not in kwargs:
        by_criterion = {s.criterion_id: s for s in sheet.scores}
        data = {"lock_version": sheet.lock_version}
        for criterion in criteria:
            score = by_criterion.get(criterion.id)
            if score is not None:
                data[score_name(criterion)] = None if score.value is None else str(score.value)
                data[comment_name(criterion)] = score.comment
        kwargs["data"] = data
    kwargs.setdefault("data", {"lock_version": 0})  # no sheet yet: the first save creates it
    form = _Form(**kwargs)
    form.criteria = list(criteria)
    return form


class ReopenSheetForm(FlaskForm):
    """Giving a submitted sheet back to its member: the reason is recorded with the change."""

    reason = StringField(
        _l("Reason for reopening"),
        widget=TextArea(),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Say why these scores are reopened.")),
            Length(max=MAX_REASON),
            no_personal_code,
        ],
    )
