"""Contract generation (issue 7): the contract text from the programme's template (or the
municipality's own version of it), filled in and rendered to PDF.

The template body is Latvian text with a fixed set of placeholders written as ``{{ name }}`` (see
PLACEHOLDERS). A coordinator edits it, so it is never rendered by the app's Jinja environment: a
sandboxed environment with no globals, filters or tests renders it, and before that the body is
parsed and refused unless it holds nothing but text and known placeholders (no attributes, calls,
filters, blocks, ``{% autoescape %}``…). The body's own text is escaped as well as the values, so
neither the template nor the applicant's data ever becomes markup in the PDF (QUALITY D3, E3).

The application PDF is annexed by reference (version number and SHA-256): merging its pages would
need pypdf at run time, which is not a runtime dependency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from portal.calls.permissions import can_manage_call
from portal.contracts.models import Contract, ContractStatus, ContractTemplate
from portal.contracts.words import amount_in_words
from portal.core import audit, storage
from portal.core.pdf import render_pdf, sha256
from portal.core.privacy import PERSONAL_CODE_MESSAGE, contains_personal_code
from portal.core.timeutil import to_riga, utcnow
from portal.core.workdays import add_working_days
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db
from portal.organisations.services import representatives_of
from portal.payments.models import PayingAccount, PaymentKind
from portal.payments.services import payments_of, schedule

DEFAULT_BODY_PATH = (
    Path(__file__).resolve().parent.parent.parent / "templates" / "contracts" / "pdf" / "_default_body.txt"
)
PDF_TEMPLATE = "contracts/pdf/contract.html"

# The placeholders a contract template may use, with what each becomes (shown on the template editor).
PLACEHOLDERS: dict[str, object] = {
    "number": _l("the contract number"),
    "date": _l("the date the contract was generated (dd.mm.yyyy)"),
    "municipality": _l("the municipality"),
    "municipality_reg_number": _l("the municipality's registration number (may be empty)"),
    "coordinator": _l("the municipality's representative (the call's contact person)"),
    "organisation": _l("the implementing organisation"),
    "organisation_reg_number": _l("the organisation's registration number"),
    "representative": _l("the organisation's representative"),
    "iban": _l("the organisation's bank account (IBAN)"),
    "bank": _l("the organisation's bank"),
    "title": _l("the project title"),
    "start_date": _l("the project's start date"),
    "end_date": _l("the project's end date"),
    "amount": _l("the amount in figures, e.g. 4 600,00"),
    "amount_words": _l("the amount in Latvian words"),
    "advance_amount": _l("the advance payment"),
    "final_amount": _l("the final payment"),
    "advance_percent": _l("the advance as a percentage of the amount"),
    "min_risk_share": _l("the minimum share of participants at risk of early school leaving, in %"),
    "report_due": _l("the final report's due date"),
    "programme": _l("the programme"),
}

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


def _sandbox() -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=False)
    env.globals.clear()
    env.filters.clear()
    env.tests.clear()
    return env


# --- the template text --------------------------------------------------------------------------------


def default_template_body(programme) -> str:
    """Return the programme's default contract text: its template row without a municipality, or the
    built-in Latvian text."""
    row = db.session.scalar(
        sa.select(ContractTemplate).where(
            ContractTemplate.programme_id == programme.id, ContractTemplate.municipality_id.is_(None)
        )
    )
    if row is not None and row.body.strip():
        return row.body
    return DEFAULT_BODY_PATH.read_text(encoding="utf-8")


def template_for(programme, municipality_id: int | None) -> str:
    """Return the municipality's own contract text for the programme, else the programme's default."""
    if municipality_id is not None:
        row = db.session.scalar(
            sa.select(ContractTemplate).where(
                ContractTemplate.programme_id == programme.id,
                ContractTemplate.municipality_id == municipality_id,
            )
        )
        if row is not None and row.body.strip():
            return row.body
    return default_template_body(programme)


def _broken(message) -> WorkflowError:
    return WorkflowError(str(message), field="body")


def _compile(body: str):
    """Parse the body (its own text escaped) and refuse anything but text and known placeholders."""
    env = _sandbox()
    source = str(escape(body or ""))
    try:
        tree = env.parse(source)
    except TemplateError as exc:
        raise _broken(
            _l(
                "The contract text has a broken placeholder (line %(line)s).",
                line=getattr(exc, "lineno", "?"),
            )
        ) from exc
    allowed = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name)
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, allowed):
            raise _broken(_l("Only placeholders written as {{ name }} can be used in the contract text."))
        if isinstance(node, nodes.Name) and node.name not in PLACEHOLDERS:
            raise _broken(_l("Unknown placeholder in the contract text: %(name)s.", name=node.name))
    try:
        return env.from_string(source)
    except TemplateError as exc:  # pragma: no cover - parsed above
        raise _broken(_l("The contract text has a broken placeholder.")) from exc


def validate_template_body(body: str) -> None:
    """Raise WorkflowError(field="body") if the text cannot be used as a contract template."""
    if not (body or "").strip():
        raise _broken(_l("Write the contract text."))
    if contains_personal_code(body):  # the values come from placeholders; the text names nobody (F2)
        raise _broken(PERSONAL_CODE_MESSAGE)
    _compile(body)


def render_body(body: str, values: dict[str, str]) -> list[Markup]:
    """Fill the placeholders in and return the paragraphs as escaped HTML (line breaks kept by CSS)."""
    template = _compile(body)
    plain = {name: str(values.get(name, "") or "") for name in PLACEHOLDERS}
    try:
        html = template.render(plain)
    except Exception as exc:  # SecurityError, UndefinedError… never a 500 for a coordinator's text
        raise _broken(_l("The contract text cannot be filled in: %(error)s", error=str(exc)[:200])) from exc
    html = html.replace("\r\n", "\n").strip()
    # Safe: the body's own text was escaped before compiling and autoescape escaped every value.
    return [Markup(p.strip("\n")) for p in _PARAGRAPH_BREAK.split(html) if p.strip()]  # noqa: S704


# --- the values -----------------------------------------------------------------------------------------


def _amount(value: Decimal | None) -> str:
    """4600 → "4 600,00" (a plain space: the text must be searchable and copyable)."""
    if value is None:
        return ""
    return format_decimal(Decimal(value), "#,##0.00", locale="lv").replace("\xa0", " ").replace("\u202f", " ")


def _percent(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format_decimal(Decimal(value), "#,##0.##", locale="lv")


def _day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def _representative_name(org) -> str:
    members = representatives_of(org)
    return members[0].user.full_name if members else ""


@dataclass
class _Facts:
    number: str
    day: date
    amount: Decimal
    start: date | None
    end: date | None
    report_due: date | None
    advance: Decimal
    final: Decimal


def contract_values(application, facts: _Facts) -> dict[str, str]:
    """Return the placeholders' values (plain strings) for an application and its contract's facts."""
    call = application.call
    programme = call.programme
    org = application.organisation
    entity = org.legal_entity
    account = db.session.get(PayingAccount, call.municipality_id)
    if org.is_initiative_group:
        organisation = f"{entity.name} (jauniešu iniciatīvas grupas „{org.name}” pārstāvis)"
    else:
        organisation = org.name
    return {
        "number": facts.number,
        "date": _day(facts.day),
        "municipality": call.municipality.name,
        "municipality_reg_number": (account.reg_number or "") if account else "",
        "coordinator": call.contact_name or "",
        "organisation": organisation,
        "organisation_reg_number": entity.reg_number or "",
        "representative": _representative_name(entity),
        "iban": org.iban or entity.iban or "",
        "bank": org.bank_name or entity.bank_name or "",
        "title": application.title or "",
        "start_date": _day(facts.start),
        "end_date": _day(facts.end),
        "amount": _amount(facts.amount),
        "amount_words": amount_in_words(facts.amount),
        "advance_amount": _amount(facts.advance),
        "final_amount": _amount(facts.final),
        "advance_percent": _percent(programme.advance_percent),
        "min_risk_share": _percent(programme.min_risk_share),
        "report_due": _day(facts.report_due),
        "programme": programme.name_lv,
    }


def _contract_facts(contract: Contract) -> _Facts:
    payments = payments_of(contract)
    if PaymentKind.ADVANCE in payments and PaymentKind.FINAL in payments:
        advance, final = payments[PaymentKind.ADVANCE].amount, payments[PaymentKind.FINAL].amount
    else:
        advance, final = schedule(contract.amount, contract.application.call.programme.advance_percent)
    return _Facts(
        number=contract.number,
        day=to_riga(utcnow()).date(),
        amount=contract.amount,
        start=contract.start_date,
        end=contract.end_date,
        report_due=contract.report_due,
        advance=advance,
        final=final,
    )


def _preview_facts(application) -> _Facts:
    call = application.call
    advance, final = schedule(call.amount, call.programme.advance_percent)
    report_due = (
        add_working_days(application.end_date, call.programme.report_due_working_days)
        if application.end_date
        else None
    )
    return _Facts(
        number=f"JIP/{call.municipality.code}/…",
        day=to_riga(utcnow()).date(),
        amount=call.amount,
        start=application.start_date,
        end=application.end_date,
        report_due=report_due,
        advance=advance,
        final=final,
    )


def _render(application, body: str, facts: _Facts, *, preview: bool) -> bytes:
    values = contract_values(application, facts)
    paragraphs = render_body(body, values)
    version = application.latest_version
    return render_pdf(
        PDF_TEMPLATE,
        locale="lv",
        values=values,
        paragraphs=paragraphs,
        version=version,
        version_sha256=(version.pdf_sha256 if version else None),
        preview=preview,
    )


# --- use cases ------------------------------------------------------------------------------------------


def render_contract_pdf(contract: Contract, *, actor) -> storage.StoredFile:
    """Render the draft contract's PDF from its municipality's template, store it with its SHA-256 and
    attach it to the contract (again on each call while the contract is a draft). Callers commit."""
    application = contract.application
    call = application.call
    if not can_manage_call(actor, call):
        raise TransitionDenied("only the municipality's coordinators generate contracts")
    if contract.status != ContractStatus.DRAFT:
        raise WorkflowError(str(_l("A contract that has been sent cannot be generated again.")))
    body = template_for(call.programme, call.municipality_id)
    data = _render(application, body, _contract_facts(contract), preview=False)
    stored = storage.save_file(
        data,
        filename=f"ligums-{contract.number.replace('/', '-')}.pdf",
        content_type="application/pdf",
        actor=actor,
    )
    before = contract.pdf_sha256
    contract.pdf_file_id, contract.pdf_sha256 = stored.id, sha256(data)
    db.session.flush()
    audit.record(
        "contract.generated",
        actor=actor,
        obj=contract,
        before={"pdf_sha256": before} if before else None,
        after={"pdf_sha256": contract.pdf_sha256},
        municipality_id=call.municipality_id,
        organisation_id=application.organisation_id,
    )
    return stored


def preview_contract_pdf(application, body: str) -> bytes:
    """Render a contract text for an application as a sample PDF (not stored), for the template editor.
    A broken text raises WorkflowError(field="body")."""
    validate_template_body(body)
    return _render(application, body, _preview_facts(application), preview=True)
