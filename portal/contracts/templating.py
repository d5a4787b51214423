"""The municipality's own contract text (issue 7): a coordinator saves a version of the programme's
template for their municipality, or restores the programme's text. Callers commit."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from portal.contracts.generation import validate_template_body
from portal.contracts.models import ContractTemplate
from portal.core import audit
from portal.core.enums import Role
from portal.core.workflow import TransitionDenied
from portal.extensions import db


def _sha(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


def can_edit_template(user, municipality_id: int | None) -> bool:
    """Coordinators of the municipality edit its contract text."""
    return (
        municipality_id is not None
        and getattr(user, "is_authenticated", False)
        and user.has_role(Role.COORDINATOR, municipality_id=municipality_id)
    )


def own_template(programme, municipality_id: int) -> ContractTemplate | None:
    """Return the municipality's own version of the programme's contract text, if it has one."""
    return db.session.scalar(
        sa.select(ContractTemplate).where(
            ContractTemplate.programme_id == programme.id,
            ContractTemplate.municipality_id == municipality_id,
        )
    )


def _check(actor, municipality_id: int) -> None:
    if not can_edit_template(actor, municipality_id):
        raise TransitionDenied("only the municipality's coordinators edit its contract template")


def save_template(programme, municipality_id: int, body: str, *, actor) -> ContractTemplate:
    """Save the municipality's contract text for the programme (refused with WorkflowError(field="body")
    unless it holds nothing but text and known placeholders)."""
    _check(actor, municipality_id)
    body = (body or "").replace("\r\n", "\n")
    validate_template_body(body)
    row = own_template(programme, municipality_id)
    before = _sha(row.body) if row is not None else None
    if row is None:
        row = ContractTemplate(programme_id=programme.id, municipality_id=municipality_id, body=body)
        db.session.add(row)
    row.body, row.updated_by_id = body, actor.id
    db.session.flush()
    audit.record(
        "contract_template.saved",
        actor=actor,
        obj=row,
        before={"body_sha256": before} if before else None,
        after={"body_sha256": _sha(body)},
        municipality_id=municipality_id,
    )
    return row


def reset_template(programme, municipality_id: int, *, actor) -> bool:
    """Drop the municipality's own text: its contracts use the programme's text again. Returns whether
    there was anything to drop."""
    _check(actor, municipality_id)
    row = own_template(programme, municipality_id)
    if row is None:
        return False
    audit.record(
        "contract_template.reset",
        actor=actor,
        obj=row,
        before={"body_sha256": _sha(row.body)},
        municipality_id=municipality_id,
    )
    db.session.delete(row)
    db.session.flush()
    return True
