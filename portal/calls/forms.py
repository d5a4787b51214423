"""Forms of calls: the call's facts, its criteria, the signed regulations, closing early.

Each form lists exactly the fields a coordinator may set: a posted `status`, `amount`, `municipality_id`
or `version` is never read (QUALITY C3). Times are typed as Riga wall-clock time and stored as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import BooleanField, EmailField, Field, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import DateTimeLocalInput, TextArea

from portal.calls.services import REGULATIONS_MAX_BYTES, CallData
from portal.core.forms import ActionForm  # noqa: F401  (re-exported for the views)
from portal.core.privacy import no_personal_code as _no_personal_code
from portal.core.timeutil import RIGA, riga_instant, to_riga
from portal.programmes.forms import LocaleDecimalField, WholeNumberField, _clean

_F = [_clean]


def _one_line(value):
    """A single-line field never carries a line break (a title goes into e-mail subjects)."""
    value = _clean(value)
    return " ".join(value.split()) if isinstance(value, str) else value


_LINE = [_one_line]
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{4,30}$")
MAX_PROJECTS = 999
# Years a call can sensibly have; anything else is a typing mistake (and keeps datetime arithmetic safe).
FIRST_YEAR, LAST_YEAR = 2000, 2100

_DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y. %H:%M",
)
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%Y.")


def _phone(form, field):
    if field.data and not _PHONE.match(field.data):
        raise ValidationError(_l("Enter a phone number of digits, for example +371 20000000."))


def parse_riga(text: str, *, closing: bool) -> datetime:
    """Turn a Riga wall-clock time typed in the form into an aware UTC instant.

    A datetime-local input has minute precision, so a closing time HH:MM means the whole minute: the
    deadline is HH:MM:59 (23:59 → 23:59:59). A date alone opens at 00:00 and closes at 23:59:59. A time
    that does not exist in Riga (the hour skipped when summer time starts) is refused; an hour that
    happens twice (when it ends) is the later one for a closing time and the earlier for an opening.
    """
    text = " ".join((text or "").split())
    naive = None
    for fmt in _DATETIME_FORMATS:
        try:
            naive = datetime.strptime(text, fmt)  # noqa: DTZ007 - Riga wall-clock time, made aware below
        except ValueError:
            continue
        if closing and fmt.count("%S") == 0:
            naive = naive.replace(second=59)
        break
    if naive is None:
        for fmt in _DATE_FORMATS:
            try:
                day = datetime.strptime(text, fmt).date()  # noqa: DTZ007
            except ValueError:
                continue
            naive = datetime.combine(day, time(23, 59, 59) if closing else time(0, 0))
            break
    if naive is None:
        raise ValueError(_l("Enter a date and time, for example 2026-03-31 23:59."))
    if not FIRST_YEAR <= naive.year <= LAST_YEAR:
        raise ValueError(_l("Enter a year between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR))
    local = naive.replace(tzinfo=RIGA, fold=1 if closing else 0)
    instant = local.astimezone(UTC)
    if instant.astimezone(RIGA).replace(tzinfo=None) != naive:
        raise ValueError(
            _l(
                "This time does not exist in Riga: the clocks move forward by an hour that night. "
                "Choose another."
            )
        )
    return instant


class RigaDateTimeField(Field):
    """A date and time in Europe/Riga (an `<input type="datetime-local">`); `data` is an aware UTC instant."""

    widget = DateTimeLocalInput()

    def __init__(self, label=None, validators=None, *, closing: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.closing = closing

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        if not text:
            self.data = None
            return
        if self.object_data is not None and text == self._format(self.object_data):
            # Unchanged in the form: keep the stored instant (its seconds may not be :00 or :59).
            self.data = self.object_data
            return
        try:
            self.data = parse_riga(_clean(text)[:40], closing=self.closing)
        except ValueError:
            self.data = None
            raise

    @staticmethod
    def _format(value: datetime) -> str:
        return to_riga(value).strftime("%Y-%m-%dT%H:%M")

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return self._format(self.data)


def _text(label, max_length, required=True, **kwargs):
    validators = (
        [DataRequired(), Length(max=max_length)] if required else [Optional(), Length(max=max_length)]
    )
    filters = _F if kwargs.get("widget") is not None else _LINE
    return StringField(label, filters=filters, validators=[*validators, _no_personal_code], **kwargs)


def _reason_field():
    return StringField(
        _l("Reason for the change"),
        filters=_F,
        widget=TextArea(),
        validators=[Optional(), Length(max=2000), _no_personal_code],
        description=_l(
            "The call is published: a change of the deadline, the number of projects or the criteria needs a "
            "reason. It is recorded and e-mailed to every organisation with a draft application."
        ),
    )


# Created before the form classes so that WTForms (which orders fields by creation) lists it first.
_ROUND = SelectField(
    _l("Programme and round"),
    validators=[DataRequired(message=_l("Choose the programme round."))],
    validate_choice=True,
)


class CallForm(FlaskForm):
    """The facts of a call that its municipality sets (the amount and criteria come from the programme)."""

    title = _text(_l("Title"), 300)
    description = _text(_l("Description"), 20000, required=False, widget=TextArea())
    projects = WholeNumberField(
        _l("Number of projects to fund"), validators=[InputRequired(), NumberRange(min=1, max=MAX_PROJECTS)]
    )
    opens_at = RigaDateTimeField(_l("Opens"), validators=[InputRequired()])
    closes_at = RigaDateTimeField(_l("Closes"), validators=[InputRequired()], closing=True)
    contact_name = _text(_l("Contact person"), 200)
    contact_email = EmailField(
        _l("Contact e-mail"),
        filters=_LINE,
        validators=[
            DataRequired(),
            Length(max=254),
            Email(_l("Enter an e-mail address like name@example.lv.")),
        ],
    )
    contact_phone = StringField(
        _l("Contact phone (optional)"), filters=_LINE, validators=[Optional(), Length(max=40), _phone]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.current = kwargs.get("obj")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        opens_field = self._fields.get("opens_at")
        opens = opens_field.data if opens_field is not None else getattr(self.current, "opens_at", None)
        closes = self.closes_at.data
        if opens and closes and closes <= opens and not self.closes_at.errors:
            self.closes_at.errors = [*self.closes_at.errors, _l("The call must close after it opens.")]
            ok = False
        return ok

    def call_data(self, current=None) -> CallData:
        """The call's facts from the form; a field the form does not show keeps the call's value."""
        opens_field = self._fields.get("opens_at")
        return CallData(
            title=self.title.data,
            description=self.description.data or "",
            projects=self.projects.data,
            opens_at=opens_field.data if opens_field is not None else current.opens_at,
            closes_at=self.closes_at.data,
            contact_name=self.contact_name.data,
            contact_email=self.contact_email.data,
            contact_phone=self.contact_phone.data or None,
        )


class NewCallForm(CallForm):
    """A new call: first the round (and with it the municipality) it belongs to."""

    round = _ROUND


class EditCallForm(CallForm):
    """A call's facts; once published, a change applicants rely on needs a reason."""

    reason = _reason_field()


LEVELS = ("0", "1", "2", "3")
LANGS = ("lv", "en")


class CallCriterionForm(FlaskForm):
    """A call's copy of a criterion; weight, "essential" and the 0–3 descriptors apply to quality criteria."""

    title_lv = _text(_l("Title in Latvian"), 300)
    title_en = _text(_l("Title in English"), 300)
    description_lv = _text(_l("Description in Latvian"), 4000, required=False, widget=TextArea())
    description_en = _text(_l("Description in English"), 4000, required=False, widget=TextArea())
    weight = LocaleDecimalField(_l("Weight"), validators=[InputRequired(), NumberRange(min=0, max=99)])
    essential = BooleanField(_l("Essential: a score of 0 fails the application"))
    level_0_lv = _text(_l("0 points, in Latvian"), 500)
    level_0_en = _text(_l("0 points, in English"), 500)
    level_1_lv = _text(_l("1 point, in Latvian"), 500)
    level_1_en = _text(_l("1 point, in English"), 500)
    level_2_lv = _text(_l("2 points, in Latvian"), 500)
    level_2_en = _text(_l("2 points, in English"), 500)
    level_3_lv = _text(_l("3 points, in Latvian"), 500)
    level_3_en = _text(_l("3 points, in English"), 500)
    reason = _reason_field()

    TEXTS = ("title_lv", "title_en", "description_lv", "description_en")
    SCORING = ("weight", "essential") + tuple(f"level_{level}_{lang}" for level in LEVELS for lang in LANGS)

    def __init__(self, *args, quality: bool = True, published: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not quality:  # yes/no criteria have no weight or levels: the fields are neither shown nor read
            for name in self.SCORING:
                delattr(self, name)
        if not published:
            delattr(self, "reason")

    @classmethod
    def for_criterion(cls, criterion, *, published: bool, formdata=None):
        quality = criterion.kind == "quality"
        data = {name: getattr(criterion, name) for name in cls.TEXTS}
        if quality:
            data |= {"weight": criterion.weight, "essential": criterion.essential}
            for level in LEVELS:
                for lang in LANGS:
                    data[f"level_{level}_{lang}"] = (criterion.levels or {}).get(level, {}).get(lang, "")
        kwargs = {} if formdata is None else {"formdata": formdata}
        return cls(quality=quality, published=published, data=data, **kwargs)

    def criterion_values(self) -> dict:
        values = {name: getattr(self, name).data or "" for name in self.TEXTS}
        if getattr(self, "weight", None) is not None:
            values |= {
                "weight": self.weight.data,
                "essential": bool(self.essential.data),
                "levels": {
                    level: {lang: getattr(self, f"level_{level}_{lang}").data for lang in LANGS}
                    for level in LEVELS
                },
            }
        return values


class RegulationsForm(FlaskForm):
    """The signed regulations as a PDF file."""

    file = FileField(
        _l("Signed regulations (PDF)"),
        validators=[
            FileRequired(message=_l("Choose the PDF file.")),
            FileSize(REGULATIONS_MAX_BYTES, message=_l("The file is larger than 10 MB.")),
        ],
    )


class CloseCallForm(FlaskForm):
    """Closing a call before its deadline: the reason is e-mailed to every organisation with a draft."""

    reason = StringField(
        _l("Reason for closing early"),
        filters=_F,
        widget=TextArea(),
        validators=[
            DataRequired(message=_l("Say why the call closes early: applicants with a draft are told.")),
            Length(max=2000),
            _no_personal_code,
        ],
    )
    confirm = BooleanField(
        _l("I understand that no application can be submitted after the call closes."),
        validators=[DataRequired(message=_l("Confirm that the call closes now."))],
    )


def default_window(today: date, days: int) -> tuple[datetime, datetime]:
    """Opening tomorrow at 00:00 and closing `days` days later at 23:59:59, Riga time."""
    opens = today + timedelta(days=1)
    return riga_instant(opens, time(0, 0)), riga_instant(opens + timedelta(days=days))
