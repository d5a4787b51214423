"""The contract pages (issue 7): the coordinator's list of the funded projects and their contracts, and
the contract page of one funded application, where the coordinator creates, generates, sends,
counter-signs and terminates the contract and the organisation's representative uploads the signed file.

Every view: load or 404 → permission (404 for what is not the user's) → CSRF and form → one service
call → commit → flash and redirect back to the contract page (STYLE "Service layer").
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from sqlalchemy.orm import contains_eager
from wtforms import IntegerField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal.applications.models import Application
from portal.applications.workflow import FUNDED_STATUSES, ApplicationStatus
from portal.calls.models import Call
from portal.calls.workflow import CallStatus
from portal.contracts import generation, lifecycle, services, signing
from portal.contracts.models import Contract, ContractStatus
from portal.contracts.views import bp
from portal.contracts.workflow import WORKFLOW, roles_for
from portal.core import storage, uploads
from portal.core.access import get_or_404, require
from portal.core.enums import Role
from portal.core.forms import ActionForm, committed
from portal.core.pdf import PdfError
from portal.core.privacy import no_personal_code
from portal.core.workflow import TransitionDenied, history
from portal.extensions import db
from portal.payments.services import payments_of

AREA = "contracts"
log = logging.getLogger(__name__)

# Calls whose funded applications have (or get) contracts.
DECIDED_CALLS = (CallStatus.DECIDED, CallStatus.RESULTS_PUBLISHED, CallStatus.ARCHIVED)
# Applications listed on the contracts page even without a contract.
LISTED = FUNDED_STATUSES | {ApplicationStatus.TERMINATED}
NO_CONTRACT = "none"
FILE_KINDS = ("pdf", "applicant", "countersigned")
SIGNED_ACCEPT = "application/pdf,.pdf,.edoc,.asice"


# --- forms ------------------------------------------------------------------------------------------


class SendForm(FlaskForm):
    sign_days = IntegerField(
        _l("Working days to sign"),
        default=signing.DEFAULT_SIGN_DAYS,
        validators=[
            InputRequired(message=_l("Give the number of working days.")),
            NumberRange(
                min=signing.SIGN_DAYS[0],
                max=signing.SIGN_DAYS[1],
                message=_l("Give between %(min)s and %(max)s working days."),
            ),
        ],
    )


class SignedFileForm(FlaskForm):
    file = FileField(
        _l("Signed contract"),
        validators=[
            FileRequired(message=_l("Choose the signed file.")),
            FileSize(uploads.UPLOAD_MAX_BYTES, message=_l("The file is larger than 10 MB.")),
        ],
    )


class CountersignForm(FlaskForm):
    file = FileField(
        _l("Counter-signed contract (optional)"),
        validators=[FileSize(uploads.UPLOAD_MAX_BYTES, message=_l("The file is larger than 10 MB."))],
    )


class TerminateForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the termination"),
        validators=[DataRequired(message=_l("Give a reason.")), Length(max=4000), no_personal_code],
    )


# --- loading and permissions ------------------------------------------------------------------------


def _is_coordinator(user, municipality_id: int) -> bool:
    return user.is_authenticated and user.has_role(Role.COORDINATOR, municipality_id=municipality_id)


def _is_member(user, organisation_id: int) -> bool:
    return user.is_authenticated and user.has_role(Role.APPLICANT, organisation_id=organisation_id)


def _can_see_contract(user, contract: Contract | None, application: Application) -> bool:
    """The call's coordinators always; the organisation's members once the contract is sent."""
    if _is_coordinator(user, application.call.municipality_id):
        return True
    return (
        contract is not None
        and contract.status != ContractStatus.DRAFT
        and _is_member(user, application.organisation_id)
    )


def _application(application_id: int) -> tuple[Application, Contract | None]:
    application = db.session.get(Application, application_id)
    contract = services.contract_of(application) if application is not None else None
    require(application is not None and _can_see_contract(current_user, contract, application), area=AREA)
    return application, contract


def _contract(contract_id: int) -> Contract:
    return get_or_404(
        Contract, contract_id, lambda user, c: _can_see_contract(user, c, c.application), area=AREA
    )


def _coordinated(contract_id: int) -> Contract:
    return get_or_404(
        Contract, contract_id, lambda user, c: _is_coordinator(user, c.municipality_id), area=AREA
    )


def _page_url(contract_or_application) -> str:
    application_id = getattr(contract_or_application, "application_id", None) or contract_or_application.id
    return url_for("contracts.for_application", application_id=application_id)


# --- the contract page ------------------------------------------------------------------------------


def _timeline(contract: Contract) -> list[tuple]:
    """The contract's events, oldest first: (instant, label, detail)."""
    events = []
    if contract.pdf_file_id and contract.pdf_file is not None:
        events.append((contract.pdf_file.created_at, _("Contract generated"), None))
    if contract.sent_at:
        events.append((contract.sent_at, _("Sent for signature"), None))
    if contract.applicant_signed_at:
        events.append((contract.applicant_signed_at, _("Signed by the applicant"), None))
    if contract.signed_at:
        events.append((contract.signed_at, _("Signed by both parties"), None))
    for change in history(WORKFLOW, contract):
        if change.to_status == ContractStatus.LAPSED:
            events.append((change.at, _("Not signed in time"), change.reason))
    if contract.terminated_at:
        events.append((contract.terminated_at, _("Terminated"), contract.termination_reason))
    return sorted(events, key=lambda e: e[0])


def _files(contract: Contract, coordinator: bool) -> list[dict]:
    files = []
    if contract.pdf_file_id and (coordinator or contract.status != ContractStatus.DRAFT):
        files.append({"kind": "pdf", "label": _("The contract (PDF)"), "sha256": contract.pdf_sha256})
    if contract.applicant_file_id:
        files.append(
            {
                "kind": "applicant",
                "label": _("Signed by the applicant"),
                "sha256": contract.applicant_sha256,
            }
        )
    if contract.countersigned_file_id:
        files.append(
            {
                "kind": "countersigned",
                "label": _("Counter-signed by the municipality"),
                "sha256": contract.countersigned_sha256,
            }
        )
    return files


def _render_page(application: Application, contract: Contract | None, **forms):
    coordinator = _is_coordinator(current_user, application.call.municipality_id)
    roles = roles_for(contract, current_user) if contract is not None else set()
    context = {
        "application": application,
        "contract": contract,
        "call": application.call,
        "coordinator": coordinator,
        "roles": roles,
        "payments": payments_of(contract) if contract is not None else {},
        "files": _files(contract, coordinator) if contract is not None else [],
        "timeline": _timeline(contract) if contract is not None else [],
        "action_form": forms.get("action_form") or ActionForm(formdata=None),
        "send_form": forms.get("send_form") or SendForm(formdata=None),
        "countersign_form": forms.get("countersign_form") or CountersignForm(formdata=None),
        "terminate_form": forms.get("terminate_form") or TerminateForm(formdata=None),
        "signed_form": forms.get("signed_form") or SignedFileForm(formdata=None),
        "can_create": coordinator and contract is None and application.status == ApplicationStatus.FUNDED,
        "can_terminate": (
            coordinator
            and contract is not None
            and contract.status == ContractStatus.SIGNED
            and application.status in lifecycle.TERMINABLE
        ),
        "signed_accept": SIGNED_ACCEPT,
        "sign_days_range": signing.SIGN_DAYS,
    }
    return render_template("contracts/for_application.html", **context)


@bp.get("/applications/<int:application_id>")
@login_required
def for_application(application_id: int):
    application, contract = _application(application_id)
    return _render_page(application, contract)


def _flash_errors(form) -> None:
    for error in form.form_errors:
        flash(error, "danger")
    for field in form:
        for error in field.errors or ():
            flash(error, "danger")


def _generate(target, action, success):
    """Run a service call that renders the contract's PDF (the button's only form is its CSRF token),
    commit, and go back to the contract page; wkhtmltopdf failing is said calmly, never a 500.
    `success` gets the action's result and returns the message."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with committed(form) as saved:
            result = action()
    except TransitionDenied:
        db.session.rollback()
        abort(404)
    except PdfError:
        db.session.rollback()
        log.exception("the contract PDF for %r could not be generated", target)
        flash(_("The contract could not be generated just now. Try again in a minute."), "danger")
        return redirect(_page_url(target))
    if saved:
        flash(success(result), "success")
    else:
        _flash_errors(form)
    return redirect(_page_url(target))


@bp.post("/applications/<int:application_id>/create")
@login_required
def create(application_id: int):
    application = get_or_404(
        Application,
        application_id,
        lambda user, a: _is_coordinator(user, a.call.municipality_id),
        area=AREA,
    )

    def create_and_render():
        contract = services.create_contract(application, actor=current_user)
        generation.render_contract_pdf(contract, actor=current_user)
        return contract

    return _generate(
        application,
        create_and_render,
        lambda contract: _(
            "The contract %(number)s is created. Check its PDF, then send it for signature.",
            number=contract.number,
        ),
    )


@bp.post("/<int:contract_id>/generate")
@login_required
def generate(contract_id: int):
    contract = _coordinated(contract_id)
    return _generate(
        contract,
        lambda: generation.render_contract_pdf(contract, actor=current_user),
        lambda _stored: _("The contract's PDF is generated again."),
    )


def _run(contract: Contract, form, name: str, action, success):
    """Validate the form, run the one service call, commit; on a refusal show the page with the form."""
    if form.validate_on_submit():
        try:
            with committed(form) as saved:
                action()
        except TransitionDenied:
            db.session.rollback()
            abort(404)
        if saved:
            flash(success() if callable(success) else success, "success")
            return redirect(_page_url(contract))
    return _render_page(contract.application, contract, **{name: form})


@bp.post("/<int:contract_id>/send")
@login_required
def send(contract_id: int):
    contract = _coordinated(contract_id)
    form = SendForm()
    return _run(
        contract,
        form,
        "send_form",
        lambda: signing.send_contract(contract, actor=current_user, sign_days=form.sign_days.data),
        _("The contract is sent. The organisation's members are told by e-mail."),
    )


def _read(field) -> tuple[bytes | None, str | None]:
    upload = field.data
    if not upload or not getattr(upload, "filename", None):
        return None, None
    return upload.read(uploads.max_upload_bytes() + 1), upload.filename


@bp.post("/<int:contract_id>/countersign")
@login_required
def countersign(contract_id: int):
    contract = _coordinated(contract_id)
    form = CountersignForm()

    def action():
        data, filename = _read(form.file)
        signing.countersign(contract, actor=current_user, data=data, filename=filename)

    return _run(
        contract,
        form,
        "countersign_form",
        action,
        _("The contract is signed by both parties and in force."),
    )


@bp.post("/<int:contract_id>/terminate")
@login_required
def terminate(contract_id: int):
    contract = _coordinated(contract_id)
    form = TerminateForm()
    return _run(
        contract,
        form,
        "terminate_form",
        lambda: lifecycle.terminate_contract(contract, form.reason.data, actor=current_user),
        _("The contract is terminated. The organisation's members are told by e-mail."),
    )


@bp.post("/<int:contract_id>/signed")
@login_required
def upload_signed(contract_id: int):
    contract = get_or_404(
        Contract, contract_id, lambda user, c: "representative" in roles_for(c, user), area=AREA
    )
    require(contract.status != ContractStatus.DRAFT, area=AREA)
    form = SignedFileForm()

    def action():
        data, filename = _read(form.file)
        signing.upload_signed(contract, data or b"", filename or "", actor=current_user)

    return _run(
        contract,
        form,
        "signed_form",
        action,
        lambda: _(
            "The signed contract is uploaded. SHA-256 of the file: %(hash)s", hash=contract.applicant_sha256
        ),
    )


@bp.get("/<int:contract_id>/files/<any(pdf, applicant, countersigned):kind>")
@login_required
def download(contract_id: int, kind: str):
    contract = _contract(contract_id)
    coordinator = _is_coordinator(current_user, contract.municipality_id)
    stored = {
        "pdf": contract.pdf_file,
        "applicant": contract.applicant_file,
        "countersigned": contract.countersigned_file,
    }[kind]
    if stored is None or (kind == "pdf" and contract.status == ContractStatus.DRAFT and not coordinator):
        abort(404)
    return uploads.download_response(storage.read_file(stored), stored.filename, stored.content_type)


# --- the coordinator's list -------------------------------------------------------------------------


def funded_with_contracts(municipality_ids, status: str | None = None) -> list[tuple[Application, Contract]]:
    """The funded applications of the municipalities' decided calls with their contracts (or None), in
    one query: calls newest first, then by title."""
    query = (
        sa.select(Application, Contract)
        .join(Application.call)
        .join(Call.municipality)
        .join(Application.organisation)
        .outerjoin(Contract, Contract.application_id == Application.id)
        .where(
            Call.municipality_id.in_(municipality_ids),
            Call.status.in_(DECIDED_CALLS),
            sa.or_(Application.status.in_(LISTED), Contract.id.is_not(None)),
        )
        .options(contains_eager(Application.call).contains_eager(Call.municipality))
        .options(contains_eager(Application.organisation))
        .order_by(Call.closes_at.desc(), Call.id, Application.title, Application.id)
    )
    if status == NO_CONTRACT:
        query = query.where(Contract.id.is_(None))
    elif status in ContractStatus._value2member_map_:
        query = query.where(Contract.status == status)
    return list(db.session.execute(query).tuples())


@bp.get("/")
@login_required
def list_contracts():
    ids = current_user.coordinated_municipality_ids() if current_user.is_authenticated else set()
    require(bool(ids), area=AREA)
    status = request.args.get("status") or None
    if status not in {NO_CONTRACT, *ContractStatus._value2member_map_}:
        status = None
    groups: OrderedDict[int, dict] = OrderedDict()
    for application, contract in funded_with_contracts(ids, status):
        group = groups.setdefault(application.call_id, {"call": application.call, "rows": []})
        group["rows"].append((application, contract))
    return render_template(
        "contracts/list_contracts.html",
        groups=list(groups.values()),
        status=status,
        statuses=[(s.value, s.label) for s in ContractStatus],
        no_contract=NO_CONTRACT,
        several=len(ids) > 1,
    )
