"""QUALITY C1, C2, C5: routes generated from `app.url_map`, probed by nine personas against their own,
another organisation's and another municipality's objects (the scene: tests/authz.py).

- C2: every route is either listed as public or answers an anonymous visitor with the login redirect
  (or a 401 in JSON); a new route is covered without touching this file.
- C1: RULES say who may use each object route (member of the object's organisation, coordinator of
  its municipality, evaluator of its call, national administrator, anyone); every persona probes every
  object route and method on each variant. Refused: exactly 404, the body names nothing of the object,
  the database is unchanged. Allowed: no 500, a GET finds its page, no denial logged.
- C5: each denied probe logs exactly one event on "portal.security".
"""

from __future__ import annotations

import hashlib
import logging

import pytest
import sqlalchemy as sa
from flask import url_for

from portal.extensions import db as _db
from tests import authz
from tests.helpers import (
    browser_client,
    csrf_token,
    fresh_g_per_request,
    log_in,
    scene_connection,
)

# URL parameter -> the scene's object kind (tests/authz.py); other parameters get FIXED values.
PARAM_KIND = {
    "application_id": "evaluated",
    "attachment_id": "attachment",
    "call_id": "call",
    "criterion_id": "criterion",
    "contract_id": "contract",
    "amendment_id": "amendment",
    "member_id": "member",
    "sheet_id": "sheet",
    "org_id": "org",
    "invitation_id": "invitation",
    "membership_id": "membership",
    "payment_id": "payment",
    "export_id": "export",
    "recovery_id": "recovery",
    "plan_id": "plan",
    "activity_id": "activity",
    "goal_id": "goal",
    "indicator_id": "indicator",
    "programme_id": "programme",
    "round_id": "round",
    "quota_id": "quota",
    "snapshot_id": "snapshot",
    "report_id": "report",
    "file_id": "report_file",
    "message_id": "message",
    "user_id": "user",
    "project_id": "reported",
}
# Endpoint-specific kinds: the object in the state the route acts on.
ENDPOINT_KIND = {
    ("applications.edit", "application_id"): "draft",
    ("applications.autosave", "application_id"): "draft",
    ("applications.autosave_status", "application_id"): "draft",
    ("applications.submit", "application_id"): "draft",
    ("attachments.upload", "application_id"): "draft",
    ("attachments.download", "application_id"): "draft",
    ("attachments.delete", "application_id"): "draft",
    ("applications.answer_clarification", "application_id"): "clarified",
    ("applications.start", "call_id"): "open_call",
    ("applications.list_for_call", "call_id"): "open_call",
    ("contracts.for_application", "application_id"): "reported",
    ("contracts.create", "application_id"): "reported",
    ("reports.edit", "application_id"): "progress",
    ("public.show_project", "application_id"): "reported",
    ("programmes.edit_criterion", "criterion_id"): "programme_criterion",
    ("payments.reduce_final", "payment_id"): "final_payment",
    ("payments.claim_recovery", "contract_id"): "progress_contract",
    ("contracts.request_amendment", "contract_id"): "progress_contract",
}
FIXED = {
    "year": 2025,
    "number": 1,
    "kind": "pdf",
    "step": "project",
    "token": "x",
    "filename": "css/portal.css",
}

# C2: the endpoints an anonymous visitor may use (everything else must send them to the login page).
PUBLIC = {
    "static", "public.index", "public.accessibility", "public.privacy", "public.health",
    "public.set_language", "public.statistics", "public.list_projects", "public.show_project",
    "public.list_results",
    "public.show_results", "public.embed_results", "public.results_feed",
    "api.calls", "api.calls_csv", "api.call", "api.call_results", "api.openapi_document", "api.projects",
    "api.projects_csv", "api.project", "api.statistics", "api.statistics_csv",
    "calls.list_calls", "calls.show_call", "calls.call_feed", "calls.download_regulations",
    "accounts.login", "accounts.register", "accounts.registered", "accounts.request_reset",
    "accounts.reset_sent", "accounts.reset_password", "accounts.resend_confirmation",
    "accounts.confirm_email",
    "accounts.confirm_email_change", "organisations.accept_invitation",
}  # fmt: skip
# Public routes that answer a script's anonymous request with 401 JSON rather than the login page.
JSON_401 = {"accounts.keepalive"}

# QUALITY C1: who may use each object route, by the persona's relation to the object the URL names.
# "public": anyone (no wall; only "not a 500" is checked); "any": any logged-in user; "member": a member
# of the object's organisation; "coordinator": a coordinator of the object's municipality; "evaluator":
# an evaluator appointed to the object's call (the scene appoints each municipality's evaluator persona to
# both of its calls in evaluation or decided); "admin": the national administrator.
M, C, E, A = "member", "coordinator", "evaluator", "admin"
RULES: dict[str, set[str]] = {
    **dict.fromkeys(
        ["api.call", "api.call_results", "api.project", "public.embed_results", "public.show_project",
         "public.show_results", "calls.show_call", "calls.download_regulations"],
        {"public"},
    ),
    **dict.fromkeys(["applications.start", "plans.show", "plans.template"], {"any"}),
    **dict.fromkeys(
        ["admin.show_user", "admin.disable_user_account", "admin.enable_user_account",
         "admin.grant_user_role",
         "admin.revoke_user_membership", "admin.terminate_user_sessions", "admin.retry_message",
         "programmes.edit_criterion", "programmes.edit_programme", "programmes.export_dashboard_csv",
         "programmes.export_dashboard_xlsx", "programmes.new_round", "programmes.show_programme",
         "programmes.show_round", "programmes.show_snapshot", "programmes.upload_pupil_counts",
         "programmes.close_round", "programmes.compute_quotas", "programmes.override_quota",
         "reports.acknowledge"],
        {A},
    ),
    **dict.fromkeys(
        ["applications.answer_clarification", "applications.autosave_status", "applications.confirmation",
         "applications.edit", "applications.autosave", "applications.submit", "applications.withdraw",
         "attachments.download", "attachments.upload", "attachments.delete", "contracts.request_amendment",
         "organisations.edit_organisation", "organisations.invite_member", "organisations.new_group",
         "organisations.make_representative", "organisations.remove_member",
         "organisations.revoke_invitation", "organisations.reveal_iban", "contracts.upload_signed",
         "reports.autosave_status", "reports.edit", "reports.autosave", "reports.submit", "reports.upload",
         "reports.remove_file"],
        {M},
    ),
    **dict.fromkeys(
        ["applications.show", "applications.compare_versions", "applications.download_version",
         "organisations.show_organisation", "reports.file", "reports.show",
         "reports.pdf", "contracts.amendment_pdf"],
        {M, C, A},
    ),
    **dict.fromkeys(
        ["contracts.decide_amendment", "contracts.download", "contracts.for_application",
         ],
        {M, C},
    ),
    **dict.fromkeys(
        ["applications.list_for_call", "calls.preview_regulations",
         "evaluation.decision_file", "evaluation.protocol", "evaluation.results", "plans.monitoring",
         "plans.monitoring_pdf", "plans.monitoring_xlsx", "programmes.show_quota", "reports.review"],
        {C, A},
    ),
    **dict.fromkeys(
        ["calls.call_criteria", "calls.close_call", "calls.edit_call", "calls.edit_criterion",
         "calls.upload_regulations", "calls.publish_call", "contracts.countersign", "contracts.create",
         "contracts.generate", "contracts.send", "contracts.terminate", "evaluation.cancel_funding",
         "evaluation.check_application", "evaluation.checks", "evaluation.committee", "evaluation.progress",
         "evaluation.record_decision", "evaluation.reject_application", "evaluation.request_clarification",
         "evaluation.admit_application", "evaluation.appoint_member", "evaluation.archive_call",
         "evaluation.change_role", "evaluation.consolidate", "evaluation.invite_member",
         "evaluation.offer_reserve", "evaluation.publish_results", "evaluation.remove_member",
         "evaluation.reopen_sheet", "evaluation.start_evaluation", "payments.claim_recovery",
         "payments.export_file", "payments.mark_paid", "payments.recovery_recovered",
         "payments.recovery_write_off", "payments.reduce_final", "payments.approve", "payments.export_paid",
         "plans.edit", "plans.edit_activity", "plans.edit_goal", "plans.edit_indicator", "plans.import_plan",
         "plans.monitoring_notes", "plans.new_activity", "plans.new_goal", "plans.new_indicator",
         "plans.delete_activity", "plans.delete_goal", "plans.delete_indicator", "reports.approve",
         "reports.return_report"],
        {C},
    ),
    **dict.fromkeys(
        ["evaluation.declare_conflict", "evaluation.sign_declaration", "evaluation.score_application",
         "evaluation.autosave_scores", "evaluation.submit_scores"],
        {E},
    ),
    "evaluation.application_pdf": {C, E},
    "evaluation.overview": {C, E},
}  # fmt: skip
# Allowed cells the portal refuses in this scene (404, logged as a denial) because the object is not in
# the state the route needs: no version of that number, no annex PDF yet, a declaration not signed, an
# admitted application (no clarification), a call already consolidated. Only "not a 500" is checked.
STATE_REFUSED = {
    "applications.compare_versions", "applications.download_version", "contracts.amendment_pdf",
    "evaluation.application_pdf", "evaluation.score_application", "evaluation.submit_scores",
    "evaluation.autosave_scores", "evaluation.request_clarification", "evaluation.consolidate", "reports.pdf",
}  # fmt: skip

# Personas: (municipality, organisation variant or None, role).
HOME = {
    "applicant_own": ("A", "own", M),
    "applicant_other": ("A", "other", M),
    "applicant_b": ("B", "foreign", M),
    "evaluator_a": ("A", None, E),
    "evaluator_b": ("B", None, E),
    "coordinator_a": ("A", None, C),
    "coordinator_b": ("B", None, C),
    "national_admin": (None, None, A),
}
VARIANT_MUNICIPALITY = {"own": "A", "other": "A", "foreign": "B"}
UNCHANGING_TABLES_EXCLUDED = ("user_sessions", "login_attempts")


@pytest.fixture(scope="module")
def scene(app):
    """The scene, built once in an outer transaction rolled back after the module's last test."""
    with scene_connection(app, authz.build) as (connection, built):
        yield built, connection


def _methods(rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def object_probes(app, scene) -> list[tuple[str, str, str, str, set[str]]]:
    """(endpoint, method, variant, url, kinds) for every route with object parameters and every variant
    the scene has an object for (a municipality's object stands in for its "other" variant: skipped)."""
    out = []
    for rule in app.url_map.iter_rules():
        names = [a for a in rule.arguments if a in PARAM_KIND]
        if not names:
            continue
        for variant in authz.VARIANTS:
            values, kinds = {}, set()
            for name in rule.arguments:
                if name in PARAM_KIND:
                    kind = ENDPOINT_KIND.get((rule.endpoint, name), PARAM_KIND[name])
                    kinds.add(kind)
                    if (kind, variant) not in scene.ids:
                        break
                    values[name] = scene.ids[(kind, variant)]
                else:
                    values[name] = FIXED[name]
            else:
                with app.test_request_context():
                    url = url_for(rule.endpoint, **values)
                for method in _methods(rule):
                    out.append((rule.endpoint, method, variant, url, kinds))
    return out


def allowed(persona: str, endpoint: str, variant: str) -> bool:
    """Say whether RULES let the persona use the endpoint on the variant's object."""
    rule = RULES[endpoint]
    municipality, organisation, role = HOME[persona]
    if rule & {"public", "any"}:
        return True
    if role == A:
        return A in rule
    if role not in rule:
        return False
    if role == M:
        return organisation == variant
    return VARIANT_MUNICIPALITY[variant] == municipality


def snapshot_hash() -> str:
    """A hash of every row of every table (the sessions' bookkeeping left out)."""
    digest = hashlib.sha256()
    for table in _db.metadata.sorted_tables:
        if table.name in UNCHANGING_TABLES_EXCLUDED:
            continue
        rows = _db.session.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
        digest.update(table.name.encode())
        digest.update(repr([tuple(r) for r in rows]).encode())
    _db.session.remove()
    return digest.hexdigest()


class _Events(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _request(client, method: str, url: str, token: str):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": token})


def _login(app, scene, persona):
    from portal.accounts.models import User

    client = browser_client(app)
    user = _db.session.get(User, scene.users[persona])
    response = log_in(client, user)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/"), persona
    token = csrf_token(client, "/")
    _db.session.remove()
    return client, token


def test_every_route_is_public_by_name_or_asks_anonymous_visitors_to_log_in(app, scene):
    """QUALITY C2: a route nobody listed as public must send an anonymous visitor to the login page."""
    built, _connection = scene
    failures, seen = [], 0
    with fresh_g_per_request(app):
        client = browser_client(app)
        token = csrf_token(client, "/")
        for rule in app.url_map.iter_rules():
            values = {}
            for name in rule.arguments:
                kind = ENDPOINT_KIND.get((rule.endpoint, name), PARAM_KIND.get(name))
                values[name] = built.ids[(kind, "own")] if kind else FIXED[name]
            with app.test_request_context():
                url = url_for(rule.endpoint, **values)
            for method in _methods(rule):
                seen += 1
                response = _request(client, method, url, token)
                _db.session.remove()
                code, location = response.status_code, response.headers.get("Location", "")
                to_login = code == 302 and "/account/login" in location
                if code >= 500:
                    failures.append(f"{rule.endpoint} {method} {url}: {code}")
                elif rule.endpoint in JSON_401:
                    if not (code == 401 and response.is_json):
                        failures.append(f"{rule.endpoint} {method} {url}: {code}, not a 401 in JSON")
                elif rule.endpoint in PUBLIC:
                    if to_login:
                        failures.append(f"{rule.endpoint} {method}: listed as public but asks to log in")
                elif not to_login:
                    failures.append(
                        f"{rule.endpoint} {method} {url}: not public, yet answers {code} {location}"
                    )
    assert seen > 150
    assert not failures, "unmapped or unprotected routes:\n" + "\n".join(failures)


def test_every_object_route_has_a_rule(app):
    """QUALITY C1: a new route naming an object fails here until RULES says who may use it."""
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if any(a in PARAM_KIND for a in r.arguments)}
    assert sorted(endpoints - RULES.keys()) == [], "object routes without a rule in RULES"
    assert sorted(RULES.keys() - endpoints) == [], "rules for routes that no longer exist"
    assert sorted(STATE_REFUSED - RULES.keys()) == []
    assert [e for e in sorted(endpoints & PUBLIC) if RULES[e] != {"public"}] == [], "public by C2, not here"


def _probe(client, token, built, events, endpoint, method, variant, url):
    """Send one probe; return (status, leaked markers, security events it logged)."""
    logged = len(events.messages)
    response = _request(client, method, url, token)
    _db.session.remove()
    body = response.get_data()
    leaked = [m for m in built.markers[variant] if m.encode() in body]
    return response.status_code, leaked, len(events.messages) - logged


def _culprits(connection, client, token, built, events, probes) -> list[str]:
    """Replay the refused probes one by one on the restored scene; name those that changed a row."""
    found = []
    for endpoint, method, variant, url, _kinds in probes:
        savepoint = connection.begin_nested()
        before = snapshot_hash()
        _probe(client, token, built, events, endpoint, method, variant, url)
        if snapshot_hash() != before:
            found.append(f"{endpoint} {method} {url}")
        savepoint.rollback()
    return found


@pytest.mark.parametrize("persona", sorted(HOME))
def test_the_authorization_matrix_holds(app, scene, persona):
    """QUALITY C1 and C5: every object route and method, on an own, another organisation's and another
    municipality's object. Where RULES forbid: exactly 404, nothing of the object in the body, exactly
    one event on the security log, and no row changed. Where they allow: no 500, and a GET finds the
    page and nothing is logged as a denial (a rule wider than the portal's fails here), unless public or the
    scene's object is not in the state the route needs (STATE_REFUSED)."""
    built, connection = scene
    probes = object_probes(app, built)
    refused = [p for p in probes if not allowed(persona, p[0], p[2])]
    permitted = [p for p in probes if allowed(persona, p[0], p[2])]
    events = _Events()
    security = logging.getLogger("portal.security")
    failures = []
    with fresh_g_per_request(app):
        client, token = _login(app, built, persona)
        security.addHandler(events)
        try:
            batch = connection.begin_nested()
            before = snapshot_hash()
            for endpoint, method, variant, url, _kinds in refused:
                code, leaked, logged = _probe(client, token, built, events, endpoint, method, variant, url)
                if code != 404 or leaked or logged != 1:
                    failures.append(
                        f"refused {endpoint} {method} {url} ({variant}): {code} {leaked} {logged} events"
                    )
            changed = snapshot_hash() != before
            batch.rollback()
            if changed:  # only on failure: find which probes changed the database
                culprits = _culprits(connection, client, token, built, events, refused)
                failures.append(f"refused probes changed the database: {culprits}")
            for endpoint, method, variant, url, _kinds in permitted:
                savepoint = connection.begin_nested()
                code, _leaked, logged = _probe(client, token, built, events, endpoint, method, variant, url)
                savepoint.rollback()
                weak = RULES[endpoint] == {"public"} or endpoint in STATE_REFUSED  # only "not a 500"
                if code >= 500 or not weak and ((method == "GET" and code == 404) or logged):
                    failures.append(f"allowed {endpoint} {method} {url} ({variant}): {code}, {logged} events")
        finally:
            security.removeHandler(events)
    print(f"{persona}: {len(refused)} refused, {len(permitted)} allowed probes")
    assert len(refused) + len(permitted) == len(probes) > 300
    assert not failures, f"{persona}:\n" + "\n".join(failures)
