"""The rules of the final report (DESIGN §4, §6; issue 8), pure: no database, no request.

`clean()` turns what the form (or the autosave script) sent into stored values and reports every value
it could not take, as {field: message}; a draft keeps what is valid (gaps are fine, but never a personal
code, a negative number or a link that is not http/https). `submission_problems()` says, also as
{field: message}, everything that stops the report from being submitted. The field names are the form's
input names ("participants_total", "activities-0-hours", "risk_by_category-learning"), so each message
lands next to its field.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from portal.applications.forms.fields import clean_text
from portal.applications.rules import risk_share_ok
from portal.core.privacy import contains_personal_code

COUNT_FIELDS = (
    "participants_total",
    "participants_grades_5_9",
    "participants_grades_10_12",
    "participants_vocational",
    "participants_risk",
)
BAND_FIELDS = COUNT_FIELDS[1:4]
TEXT_FIELDS = ("youth_led", "problems", "lessons")
ACTIVITY_KEYS = ("planned", "carried_out", "dates", "place", "hours", "methods", "change_reason")
RESULT_KEYS = ("indicator", "planned", "achieved", "comment")
SCHOOL_KEYS = ("name", "count")
ROW_KEYS = {"activities": ACTIVITY_KEYS, "results": RESULT_KEYS, "schools": SCHOOL_KEYS}
ROW_NUMBERS = {"activities": ("hours",), "schools": ("count",), "results": ()}
FLAGS = ("evidence_consent", "declaration")

MAX_ROWS = 30
MAX_LINKS = 20
TEXT_MAX = 5000
URL_MAX = 500
COUNT_MAX = 1_000_000

PERSONAL_CODE = _l(
    "Remove the personal identity code: write counts or initials-free descriptions; "
    "the portal stores no personal codes."
)
NOT_A_COUNT = _l("Enter a whole number, 0 or more (digits only).")
TOO_LONG = _l("Shorten this text to %(n)d characters.", n=TEXT_MAX)
BAD_URL = _l(
    "Enter a full web address starting with http:// or https://, for example https://example.lv/news."
)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_count(raw) -> int | None:
    """A count from the form: None when empty; ValueError unless a whole number from 0 up."""
    if raw is None or isinstance(raw, bool):
        if isinstance(raw, bool):
            raise ValueError(raw)
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).replace("\u00a0", "").replace(" ", "").strip()
        if text == "":
            return None
        if not (text.isascii() and text.isdigit()):
            raise ValueError(raw)
        value = int(text)
    if value < 0 or value > COUNT_MAX:
        raise ValueError(raw)
    return value


def _text(raw) -> str:
    """Free text without control characters (a NUL breaks PostgreSQL), trimmed; never None."""
    if raw is None or isinstance(raw, dict | list):
        return ""
    return clean_text(str(raw)) or ""


def _text_problem(value: str):
    if contains_personal_code(value):
        return PERSONAL_CODE
    if len(value) > TEXT_MAX:
        return TOO_LONG
    return None


def url_ok(value: str) -> bool:
    """An http(s) address with a host and no spaces."""
    if not value or len(value) > URL_MAX or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _flag(raw) -> bool:
    if isinstance(raw, str):
        return raw.strip().lower() in ("y", "yes", "on", "true", "1")
    return bool(raw)


def _rows(name: str, raw, problems: dict) -> list[dict] | None:
    """The section's rows, blank rows dropped; None (the section not taken) when a value is refused."""
    if not isinstance(raw, list):
        return None
    rows: list[dict] = []
    bad = False
    for index, item in enumerate(raw[:MAX_ROWS]):
        item = item if isinstance(item, dict) else {}
        row: dict = {}
        for key in ROW_KEYS[name]:
            field = f"{name}-{index}-{key}"
            if key in ROW_NUMBERS[name]:
                try:
                    row[key] = parse_count(item.get(key))
                except ValueError:
                    problems[field] = NOT_A_COUNT
                    bad = True
            else:
                row[key] = _text(item.get(key))
                message = _text_problem(row[key])
                if message is not None:
                    problems[field] = message
                    bad = True
        if any(not _blank(v) for v in row.values()):
            rows.append(row)
    return None if bad else rows


def clean(values: dict, programme) -> tuple[dict, dict]:
    """Return (the values that can be stored, {field: message} for those that cannot).

    Only the keys present in `values` are looked at (autosave sends what it has); a draft may be
    incomplete, so only the shape of each value is checked here."""
    taken: dict = {}
    problems: dict = {}
    for name in COUNT_FIELDS:
        if name in values:
            try:
                taken[name] = parse_count(values[name])
            except ValueError:
                problems[name] = NOT_A_COUNT
    if isinstance(values.get("risk_by_category"), dict):
        codes = [c.get("code") for c in programme.risk_categories or [] if c.get("code")]
        by_category, bad = {}, False
        for code in codes:
            if code not in values["risk_by_category"]:
                continue
            try:
                count = parse_count(values["risk_by_category"][code])
            except ValueError:
                problems[f"risk_by_category-{code}"] = NOT_A_COUNT
                bad = True
                continue
            if count is not None:
                by_category[code] = count
        if not bad:
            taken["risk_by_category"] = by_category
    for name in TEXT_FIELDS:
        if name in values:
            text = _text(values[name])
            message = _text_problem(text)
            if message is None:
                taken[name] = text
            else:
                problems[name] = message
    for name in ROW_KEYS:
        if name in values:
            rows = _rows(name, values[name], problems)
            if rows is not None:
                taken[name] = rows
    if "publicity_links" in values and isinstance(values["publicity_links"], list):
        links, bad = [], False
        for index, raw in enumerate(values["publicity_links"][:MAX_LINKS]):
            link = _text(raw)
            if not link:
                continue
            if not url_ok(link):
                problems[f"publicity_links-{index}"] = BAD_URL
                bad = True
            elif contains_personal_code(link):
                problems[f"publicity_links-{index}"] = PERSONAL_CODE
                bad = True
            links.append(link)
        if not bad:
            taken["publicity_links"] = links
    for name in FLAGS:
        if name in values:
            taken[name] = _flag(values[name])
    return taken, problems


def risk_share(total: int | None, risk: int | None) -> Decimal | None:
    """The PMP-risk share in percent, two decimals, never rounded up (as the application's)."""
    if not total or risk is None:
        return None
    return (Decimal(risk) * 100 / Decimal(total)).quantize(Decimal("0.01"), rounding="ROUND_DOWN")


def count_problems(values: dict, programme, *, complete: bool) -> dict:
    """The rules between the counts. A draft (`complete=False`) is checked only where the database
    would refuse it (risk above the total); the submission checks every sum and the share."""
    problems: dict = {}
    total, risk = values.get("participants_total"), values.get("participants_risk")
    if total is not None and risk is not None and risk > total:
        problems["participants_risk"] = _l("Participants at risk cannot outnumber all participants.")
    if not complete:
        return problems
    if not total:
        problems["participants_total"] = _l(
            "Give the number of young people who took part (each counted once)."
        )
    for name in BAND_FIELDS:
        if values.get(name) is None:
            problems[name] = _l("Give the number, 0 if none.")
    if risk is None:
        problems["participants_risk"] = _l("Give the number of participants at risk of early school leaving.")
    if not total:
        return problems
    bands = [values.get(name) for name in BAND_FIELDS]
    if None not in bands and sum(bands) != total:
        problems["participants_grades_5_9"] = _l(
            "Participants by grade (5–9, 10–12, vocational 1–4) must add up to the total (%(total)d).",
            total=total,
        )
    schools = values.get("schools") or []
    if schools:
        for index, row in enumerate(schools):
            if _blank(row.get("name")):
                problems[f"schools-{index}-name"] = _l("Name the school.")
            if row.get("count") is None:
                problems[f"schools-{index}-count"] = _l("Give the number of participants from this school.")
        if "schools" not in problems and sum(row.get("count") or 0 for row in schools) != total:
            problems["schools"] = _l(
                "Participants by school must add up to the total (%(total)d).", total=total
            )
    if risk is not None and "participants_risk" not in problems:
        if not risk_share_ok(risk, total, programme.min_risk_share):
            problems["participants_risk"] = _l(
                "At least %(share)s %% of participants must be at risk of early school leaving; "
                "the report shows %(actual)s %%.",
                share=f"{programme.min_risk_share.normalize():f}",
                actual=f"{risk_share(total, risk):f}",
            )
        codes = [c.get("code") for c in programme.risk_categories or [] if c.get("code")]
        if codes:
            # As in the application: one young person may count in several categories, so the
            # categories need not add up to the total — but none counts more than are at risk, and a
            # project with participants at risk says which risks they have.
            by_category = values.get("risk_by_category") or {}
            counts = [by_category.get(code) or 0 for code in codes]
            if any(count > risk for count in counts):
                problems["risk_by_category"] = _l(
                    "A risk category cannot count more participants than are at risk (%(risk)d).", risk=risk
                )
            elif risk > 0 and not any(counts):
                problems["risk_by_category"] = _l(
                    "Say in which risk categories the participants at risk are."
                )
    return problems


def submission_problems(
    values: dict, programme, *, has_photos: bool = False, publicity_files: int = 0
) -> dict:
    """Everything that stops the report from being submitted, as {field: message} (empty when none)."""
    problems: dict = {}
    # What a draft refused is refused again (a value stored before the rule existed, say).
    for name in TEXT_FIELDS:
        message = _text_problem(_text(values.get(name)))
        if message is not None:
            problems[name] = message
    for name in ROW_KEYS:
        for index, row in enumerate(values.get(name) or []):
            for key in ROW_KEYS[name]:
                if key not in ROW_NUMBERS[name]:
                    message = _text_problem(_text(row.get(key)))
                    if message is not None:
                        problems[f"{name}-{index}-{key}"] = message

    activities = values.get("activities") or []
    if not any(not _blank(row.get("carried_out")) for row in activities):
        problems["activities"] = _l("Describe at least one activity that was carried out.")
    for index, row in enumerate(activities):
        if _blank(row.get("carried_out")) and _blank(row.get("change_reason")):
            problems.setdefault(
                f"activities-{index}-change_reason",
                _l("Say what was carried out, or why this planned activity was changed or dropped."),
            )
        elif not _blank(row.get("carried_out")) and _blank(row.get("dates")):
            problems.setdefault(f"activities-{index}-dates", _l("Give the dates of the activity."))

    problems.update(
        {k: v for k, v in count_problems(values, programme, complete=True).items() if k not in problems}
    )

    if _blank(values.get("youth_led")):
        problems["youth_led"] = _l("Describe how young people proposed, planned and led the project.")
    results = values.get("results") or []
    if not any(not _blank(row.get("achieved")) for row in results):
        problems["results"] = _l("Say what was achieved against at least one planned indicator.")
    if not (values.get("publicity_links") or []) and not publicity_files:
        problems["publicity_links"] = _l("Give at least one link to where the project was made public.")
    if _blank(values.get("lessons")):
        problems["lessons"] = _l("Describe the lessons learnt.")
    if has_photos and not values.get("evidence_consent"):
        problems["evidence_consent"] = _l(
            "Confirm that the people in the photos (or their parents) agreed to their publication."
        )
    if not values.get("declaration"):
        problems["declaration"] = _l("The representative must confirm the declaration.")
    return problems
