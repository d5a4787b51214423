"""Administration services without HTTP: roles, the first administrator, outbox retry."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.admin import permissions
from portal.admin.services import (
    AdminRuleError,
    create_national_admin,
    grant_role,
    retry_outbox_message,
    revoke_membership,
)
from portal.core.enums import Role
from portal.core.mail import DEAD, QUEUED, OutboxMessage
from portal.municipalities.models import Municipality
from tests.factories import UserFactory, applicant, coordinator, evaluator, municipality, national_admin


def test_grant_checks_the_scope(db):
    admin = national_admin()
    user = UserFactory()
    with pytest.raises(AdminRuleError) as excinfo:
        grant_role(user, Role.COORDINATOR, actor=admin)
    assert excinfo.value.field == "municipality"
    with pytest.raises(AdminRuleError):
        grant_role(user, Role.APPLICANT, actor=admin)
    merged_away = db.session.scalars(
        sa.select(Municipality).where(Municipality.valid_to.is_not(None)).limit(1)
    ).first()
    if merged_away is not None:
        with pytest.raises(AdminRuleError):
            grant_role(user, Role.EVALUATOR, actor=admin, municipality=merged_away)
    assert user.roles() == set()

    membership = grant_role(user, Role.EVALUATOR, actor=admin, municipality=municipality())
    assert membership.granted_by_id == admin.id
    with pytest.raises(AdminRuleError):
        grant_role(user, Role.EVALUATOR, actor=admin, municipality=municipality())
    grant_role(user, Role.EVALUATOR, actor=admin, municipality=municipality("0044000"))  # another one is fine
    assert len(user.memberships) == 2


def test_the_last_national_admin_cannot_be_revoked(db):
    only = national_admin()
    # Alone among the active administrators (within this test's rolled-back transaction).
    db.session.execute(sa.update(User).where(User.id != only.id).values(is_disabled=True))
    other_actor = national_admin(disabled=True)  # a disabled administrator does not count
    with pytest.raises(AdminRuleError):
        revoke_membership(only.memberships[0], actor=other_actor, reason="test")
    second = national_admin()
    revoke_membership(only.memberships[0], actor=second, reason="Aizgāja no darba")
    assert only.roles() == set()


def test_revoke_requires_a_reason(db):
    admin = national_admin()
    user = evaluator()
    with pytest.raises(AdminRuleError) as excinfo:
        revoke_membership(user.memberships[0], actor=admin, reason=" ")
    assert excinfo.value.field == "reason"
    assert user.roles() == {Role.EVALUATOR}


def test_revoking_an_applicant_membership_is_scoped_to_the_organisation(db):
    from portal.core.audit import AuditEvent

    admin = national_admin()
    user = applicant()
    org_id = user.memberships[0].organisation_id
    revoke_membership(user.memberships[0], actor=admin, reason="Pēc organizācijas lūguma")
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "role_revoked")).one()
    assert event.organisation_id == org_id
    assert event.before_data() == {"role": "applicant", "organisation_id": org_id}


def test_create_national_admin_rules(db):
    UserFactory(email="taken@example.lv")
    with pytest.raises(AdminRuleError) as excinfo:
        create_national_admin("Taken@Example.lv", "X", "a long enough password")
    assert excinfo.value.field == "email"
    with pytest.raises(AdminRuleError) as excinfo:
        create_national_admin("new@example.lv", "X", "short")
    assert excinfo.value.field == "password"
    with pytest.raises(AdminRuleError) as excinfo:
        create_national_admin("not-an-address", "X", "a long enough password")
    assert excinfo.value.field == "email"
    with pytest.raises(AdminRuleError) as excinfo:
        create_national_admin("new@example.lv", "  ", "a long enough password")
    assert excinfo.value.field == "name"


def test_retry_only_dead_messages(db):
    admin = national_admin()
    message = OutboxMessage(
        recipient="a@example.lv", subject="s", body_text="b", locale="lv", template="t", status=QUEUED
    )
    db.session.add(message)
    db.session.flush()
    with pytest.raises(AdminRuleError):
        retry_outbox_message(message, actor=admin)
    message.status, message.attempts = DEAD, 6
    retry_outbox_message(message, actor=admin)
    assert (message.status, message.attempts) == (QUEUED, 0)


def test_permissions(db):
    admin = national_admin()
    coord = coordinator(municipality("0044000"))
    plain = UserFactory()
    assert permissions.audit_scope(admin) is None
    assert permissions.audit_scope(coord) == {municipality("0044000").id}
    assert permissions.audit_scope(plain) == set()
    assert permissions.can_view_audit_log(coord) and not permissions.can_view_audit_log(plain)
    assert permissions.can_manage_outbox(admin) and not permissions.can_manage_outbox(coord)
    assert permissions.can_manage_users(admin) and not permissions.can_manage_users(coord)
    assert not permissions.can_revoke_membership(admin, admin.memberships[0])
    assert permissions.can_revoke_membership(admin, coord.memberships[0])
    assert not permissions.can_revoke_membership(coord, coord.memberships[0])


def test_event_visibility_follows_the_scope(db):
    from portal.core import audit

    admin = national_admin()
    coord = coordinator(municipality("0044000"))
    mine = audit.record("x", municipality_id=municipality("0044000").id)
    other = audit.record("x", municipality_id=municipality("0020000").id)
    unscoped = audit.record("x")
    assert all(permissions.can_view_event(admin, e) for e in (mine, other, unscoped))
    assert [permissions.can_view_event(coord, e) for e in (mine, other, unscoped)] == [True, False, False]
