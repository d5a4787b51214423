"""Data for the API tests (issue 6): published results built through the real evaluation path, and the
unpublished calls around them whose details must never reach the API.

A call with published results comes from the public pages' helper (`tests.public.support.results_call`),
so pages and API are tested on the same data; this module adds the unpublished calls and the strings to
look for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from portal.calls.workflow import CallStatus
from tests import factories
from tests.helpers import fresh_g_per_request
from tests.public.support import SECRETS, ResultsCall, results_call

__all__ = ["SECRETS", "ResultsCall", "World", "api_fixture", "published_call", "world"]

SECRET_MEMBER = "Komisijas Loceklis Slēptais"
SECRET_DRAFT_TITLE = "Melnraksta Konkurss Neredzams"
SECRET_EVALUATION_TITLE = "Vērtēšanā Esošs Projekts"
SECRET_DECIDED_TITLE = "Nepublicēts Lēmums"
SECRET_SCORE_COMMENT = "Nepublicēta vērtējuma piezīme"

# Municipalities of the test data (loaded by the migrations).
AIZKRAUKLE, ROPAZI = "0020000", "0044000"


def published_call(tag: str, *, muni_code: str = AIZKRAUKLE, with_rejected: bool = True) -> ResultsCall:
    """A call with published results: two funded, one reserve, one not funded, one rejected (optional)."""
    return results_call(tag, muni_code=muni_code, with_rejected=with_rejected)


@dataclass
class World:
    """Published calls plus one call in each unpublished state, with the strings that must stay hidden."""

    published: list[ResultsCall]
    decided: ResultsCall  # decided but its results not published
    draft_call: object
    evaluation_call: object
    evaluation_applications: list
    secrets: list[str] = field(default_factory=list)

    @property
    def hidden_call_ids(self) -> list[int]:
        return [self.decided.call.id, self.draft_call.id, self.evaluation_call.id]

    @property
    def hidden_application_ids(self) -> list[int]:
        """Applications that must never have a public project: unpublished ones, and published ones that
        were not funded (reserve, not funded, rejected)."""
        ids = [a.id for a in self.decided.applications + self.evaluation_applications]
        for published in self.published:
            ids += [a.id for a in published.reserve + published.not_funded + published.rejected]
        return ids


def world(*, published: int = 1) -> World:
    """Build `published` published calls (alternating two municipalities) and one call decided but not
    published, one draft call and one call in evaluation with scores and comments."""
    calls = [published_call(f"PUB{i}", muni_code=(AIZKRAUKLE, ROPAZI)[i % 2]) for i in range(published)]
    decided = results_call("HIDDENDEC", publish=False)
    for application in decided.applications:
        application.title = f"{SECRET_DECIDED_TITLE} {application.id}"
    decided.call.title = f"{SECRET_DECIDED_TITLE} konkurss"

    draft = factories.open_call(factories.municipality(ROPAZI), title=SECRET_DRAFT_TITLE)
    draft.status = CallStatus.DRAFT
    draft.published_at = None
    draft.contact_name = "Melnraksta Kontaktpersona Slepena"

    built = factories.evaluation_call(applications=2, muni=factories.municipality(ROPAZI))
    built["call"].title = f"{SECRET_EVALUATION_TITLE} konkurss"
    for application in built["applications"]:
        application.title = f"{SECRET_EVALUATION_TITLE} {application.id}"
    members = built["committee"]["members"]
    for member in members:
        member.user.full_name = f"{SECRET_MEMBER} {member.id}"
    for member in members:
        factories.score(member, built["applications"][0], 2, comment=SECRET_SCORE_COMMENT)
    factories.db.session.flush()
    secrets = [
        *SECRETS,
        SECRET_MEMBER,
        SECRET_DRAFT_TITLE,
        SECRET_EVALUATION_TITLE,
        SECRET_DECIDED_TITLE,
        SECRET_SCORE_COMMENT,
        "Melnraksta Kontaktpersona",
        "HIDDENDEC",
    ]
    return World(
        published=calls,
        decided=decided,
        draft_call=draft,
        evaluation_call=built["call"],
        evaluation_applications=built["applications"],
        secrets=secrets,
    )


# --- fixtures shared by the API tests (imported by each test module) --------------------------------


@pytest.fixture(name="api")
def api_fixture(app, db):
    """A plain HTTP client (no cookies sent, like a script or another site's page), with a fresh `g` for
    every request as a real server gives."""
    with fresh_g_per_request(app):
        yield app.test_client(use_cookies=False)
