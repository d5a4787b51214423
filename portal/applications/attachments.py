"""Files attached to an application (issue 4; QUALITY E1, E2).

Members of the applying organisation attach files while the application is a draft. Each file is
checked by its content (`portal.core.uploads`), stored in the database under a random UUID with its
SHA-256, and offered back only as a download: to the organisation's members, and to staff once the
call has closed (applications are sealed until then, DESIGN §7), every staff download audited.

The upload form is separate from the draft form: the partial `applications/_attachments.html`
renders it, and an error comes back to the page the user came from, next to the file input.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, request, session
from flask_babel import format_decimal, lazy_ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField

from portal.applications.models import Application, Attachment
from portal.applications.workflow import ApplicationStatus
from portal.calls.permissions import can_see_applications
from portal.core import audit, storage, uploads
from portal.core.access import require
from portal.core.enums import Role
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db

bp = Blueprint("attachments", __name__)

MAX_ATTACHMENTS = 10
ERROR_KEY = "attachment_error"  # the refusal shown by the file input after the redirect back


class AttachmentKind(StrEnum):
    COOPERATION_AGREEMENT = "cooperation_agreement"
    OTHER = "other"

    @property
    def label(self):
        return ATTACHMENT_KIND_LABELS[self]


ATTACHMENT_KIND_LABELS = {
    AttachmentKind.COOPERATION_AGREEMENT: _l("Cooperation agreement with the representative organisation"),
    AttachmentKind.OTHER: _l("Other document"),
}


def kinds_for(application: Application) -> list[AttachmentKind]:
    """Return the kinds an application may attach: the agreement only for a youth initiative group."""
    if application.organisation.is_initiative_group:
        return [AttachmentKind.COOPERATION_AGREEMENT, AttachmentKind.OTHER]
    return [AttachmentKind.OTHER]


# --- permissions -----------------------------------------------------------------------------------


def _is_member(user, application: Application) -> bool:
    return bool(
        user
        and getattr(user, "is_authenticated", False)
        and user.has_role(Role.APPLICANT, organisation_id=application.organisation_id)
    )


def can_manage_attachments(user, application: Application) -> bool:
    """Members of the applying organisation add files while it is a draft, or while they answer a
    clarification request (a missing annex is often what is asked for)."""
    return _is_member(user, application) and _files_open(application)


def _files_open(application: Application) -> bool:
    if application.status == ApplicationStatus.DRAFT:
        return True
    from portal.applications.services import clarification_open

    return clarification_open(application)


def can_remove_attachment(user, application: Application, attachment: Attachment) -> bool:
    """Files can be removed from a draft; during a clarification only the ones added for it (what was
    submitted stays as it was)."""
    if not can_manage_attachments(user, application):
        return False
    if application.status == ApplicationStatus.DRAFT:
        return True
    from portal.evaluation.services.checks import clarification_of  # evaluation builds on applications

    request = clarification_of(application)
    return request is not None and attachment.created_at > request.requested_at


def can_download_attachment(user, application: Application) -> bool:
    """Members always; staff only once the call is closed (sealed until then) and never a draft; a
    committee member who declared no conflict on the application (never one who recused)."""
    if _is_member(user, application):
        return True
    if application.status == ApplicationStatus.DRAFT:
        return False
    if can_see_applications(user, application.call):
        return True
    from portal.evaluation.permissions import can_open_for_scoring  # evaluation builds on applications

    return can_open_for_scoring(user, application)


# --- services --------------------------------------------------------------------------------------


def _scope(application: Application) -> dict:
    return {
        "municipality_id": application.call.municipality_id,
        "organisation_id": application.organisation_id,
    }


def add_attachment(application: Application, data: bytes, filename: str, kind: str, actor) -> Attachment:
    """Check the file by its content and attach it to the draft (at most MAX_ATTACHMENTS files).

    The user's name for the file is kept for display only; the bytes are stored under a UUID.
    """
    if not _is_member(actor, application):
        raise TransitionDenied("only members of the organisation can attach files to its application")
    if not _files_open(application):
        raise WorkflowError(str(_l("The application has been submitted; its files can no longer change.")))
    if kind not in kinds_for(application):
        raise WorkflowError(str(_l("Choose what kind of document this is.")), field="kind")
    if len(application.attachments) >= MAX_ATTACHMENTS:
        raise WorkflowError(
            str(
                lazy_ngettext(
                    "An application can have at most %(num)d file. Remove it first.",
                    "An application can have at most %(num)d files. Remove one first.",
                    MAX_ATTACHMENTS,
                )
            ),
            field="file",
        )
    _kind, content_type = uploads.check_upload(data, filename, actor=actor)
    name = uploads.sanitise_filename(filename)
    stored = storage.save_file(data, filename=name, content_type=content_type, actor=actor)
    attachment = Attachment(application=application, file_id=stored.id, kind=kind)
    db.session.add(attachment)
    db.session.flush()
    audit.record(
        "attachment.added",
        actor=actor,
        obj=application,
        after={
            "attachment_id": attachment.id,
            "file_id": stored.id,
            "filename": name,
            "kind": kind,
            "content_type": content_type,
            "size": stored.size,
            "sha256": stored.sha256,
        },
        **_scope(application),
    )
    return attachment


def remove_attachment(application: Application, attachment: Attachment, actor) -> None:
    """Remove a file from the draft, with its stored bytes (nothing else refers to them)."""
    if not _is_member(actor, application):
        raise TransitionDenied("only members of the organisation can remove its application's files")
    if attachment.application_id != application.id:
        raise TransitionDenied("the file belongs to another application")
    if not can_remove_attachment(actor, application, attachment):
        raise WorkflowError(str(_l("The application has been submitted; its files can no longer change.")))
    stored = attachment.file
    before = {
        "attachment_id": attachment.id,
        "file_id": stored.id,
        "filename": stored.filename,
        "kind": attachment.kind,
        "sha256": stored.sha256,
    }
    application.attachments.remove(attachment)
    db.session.delete(attachment)
    db.session.delete(stored)
    db.session.flush()
    audit.record("attachment.removed", actor=actor, obj=application, before=before, **_scope(application))


def open_attachment(
    application: Application, attachment: Attachment, actor
) -> tuple[storage.StoredFile, bytes]:
    """Return the stored file and its bytes (checked against the SHA-256); staff downloads are audited."""
    if attachment.application_id != application.id or not can_download_attachment(actor, application):
        raise TransitionDenied("the user may not download this file")
    stored = attachment.file
    data = storage.read_file(stored)
    if not _is_member(actor, application):
        audit.record(
            "attachment.downloaded",
            actor=actor,
            obj=application,
            after={"attachment_id": attachment.id, "file_id": stored.id, "sha256": stored.sha256},
            **_scope(application),
        )
    return stored, data


# --- forms -----------------------------------------------------------------------------------------


class AttachmentForm(FlaskForm):
    """One file and what it is; rendered with the prefix "attachment" so its ids are unique on the page."""

    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file to upload."))])
    kind = SelectField(_l("What is this document?"), choices=[], validate_choice=True)
    next = HiddenField()

    def set_choices(self, application: Application) -> None:
        self.kind.choices = [(k.value, k.label) for k in kinds_for(application)]


class RemoveAttachmentForm(FlaskForm):
    next = HiddenField()


def attachment_form(application: Application, **kwargs) -> AttachmentForm:
    form = AttachmentForm(prefix="attachment", **kwargs)
    form.set_choices(application)
    return form


# --- views -----------------------------------------------------------------------------------------


def _load(application_id: int, attachment_id: int | None = None):
    """Load the application (and one of its files) or 404."""
    application = db.session.get(Application, application_id)
    if application is None:
        abort(404)
    if attachment_id is None:
        return application, None
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    require(attachment.application_id == application.id, area="attachments")
    return application, attachment


def _back(target: str | None) -> str:
    """Return the same-site page the form was on (never another host); the attachments section."""
    fallback = "/"
    if not target or "\\" in target or any(ch in target for ch in "\t\r\n"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target.split("#", 1)[0] + "#attachments"


def _refuse(application: Application, message: str, field: str, target: str | None, kind: str | None):
    """Send the user back to the form page; the partial shows the message by the field (kind kept)."""
    session[ERROR_KEY] = {
        "application_id": application.id,
        "field": field,
        "message": str(message)[:500],
        "kind": kind if kind in {k.value for k in AttachmentKind} else None,
    }
    return redirect(_back(target))


@bp.post("/<int:application_id>/attachments")
@login_required
def upload(application_id: int):
    application, _none = _load(application_id)
    require(_is_member(current_user, application), area="attachments")
    form = attachment_form(application)
    target = form.next.data
    if not form.validate_on_submit():
        field = "kind" if form.kind.errors and not form.file.errors else "file"
        errors = form.file.errors or form.kind.errors or [_("The form could not be accepted. Try again.")]
        return _refuse(application, errors[0], field, target, form.kind.data)
    upload_file = form.file.data
    limit = uploads.max_upload_bytes()
    data = upload_file.stream.read(limit + 1)  # one byte more than allowed is enough to refuse
    try:
        attachment = add_attachment(
            application, data, upload_file.filename or "", form.kind.data, current_user
        )
        db.session.commit()
    except WorkflowError as exc:
        db.session.rollback()
        return _refuse(application, exc.message, exc.field or "file", target, form.kind.data)
    flash(_("The file “%(name)s” is attached.", name=attachment.file.filename), "success")
    return redirect(_back(target))


@bp.post("/<int:application_id>/attachments/<int:attachment_id>/delete")
@login_required
def delete(application_id: int, attachment_id: int):
    application, attachment = _load(application_id, attachment_id)
    require(_is_member(current_user, application), area="attachments")
    form = RemoveAttachmentForm()
    if not form.validate_on_submit():
        abort(400)
    name = attachment.file.filename
    try:
        remove_attachment(application, attachment, current_user)
        db.session.commit()
    except WorkflowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        flash(_("The file “%(name)s” is removed.", name=name), "success")
    return redirect(_back(form.next.data))


@bp.get("/<int:application_id>/attachments/<int:attachment_id>")
@login_required
def download(application_id: int, attachment_id: int):
    application, attachment = _load(application_id, attachment_id)
    # Not the user's, or sealed until the call closes: the same answer.
    require(can_download_attachment(current_user, application), area="attachments")
    stored, data = open_attachment(application, attachment, current_user)
    db.session.commit()
    # Even if a browser renders the file, it runs in a sandbox without scripts, plugins or the origin.
    return uploads.download_response(data, stored.filename, stored.content_type)


# --- the partial's data ----------------------------------------------------------------------------


def attachment_panel(application: Application) -> dict:
    """Everything `applications/_attachments.html` shows: the files, the upload form, a refusal."""
    form = attachment_form(application, formdata=None)
    form.next.data = request.full_path.rstrip("?") if request else None
    error = session.get(ERROR_KEY)
    if error and error.get("application_id") == application.id:
        session.pop(ERROR_KEY, None)
        getattr(form, error.get("field") if error.get("field") in ("file", "kind") else "file").errors = [
            error["message"]
        ]
        if error.get("kind"):
            form.kind.data = error["kind"]
    else:
        error = None
    limit = uploads.max_upload_bytes()
    attachments = sorted(application.attachments, key=lambda a: (a.created_at, a.id))
    return {
        "attachments": attachments,
        "form": form,
        "error": error,
        "can_manage": can_manage_attachments(current_user, application),
        "removable": lambda a: can_remove_attachment(current_user, application, a),
        "can_download": can_download_attachment(current_user, application),
        "remaining": max(0, MAX_ATTACHMENTS - len(attachments)),
        "max_attachments": MAX_ATTACHMENTS,
        "limit": uploads.format_limit(limit),
        "accept": uploads.ACCEPT,
        "kind_labels": ATTACHMENT_KIND_LABELS,
        "format_size": format_size,
    }


def format_size(size: int) -> str:
    """Say a file's size in the reader's number format ("1,5 MB" in Latvian, "820 KB")."""
    if size >= 1024 * 1024:
        return f"{format_decimal(round(size / (1024 * 1024), 1))} MB"
    return f"{format_decimal(max(1, round(size / 1024)))} KB"


@bp.app_context_processor
def _template_helpers():
    return {"attachment_panel": attachment_panel}
