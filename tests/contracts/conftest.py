"""Fixtures of the contract and payment tests."""

import pytest

from portal.core.timeutil import utcnow
from portal.evaluation.services import decisions
from tests import factories


@pytest.fixture()
def funded(db):
    """A decided call with one funded application (the other on the reserve list)."""
    ev = factories.evaluation_call(2, projects=1, quota=1)
    for member in ev["committee"]["members"]:
        factories.score(member, ev["applications"][0], 3)
        factories.score(member, ev["applications"][1], 2)
    decisions.consolidate_call(ev["call"], actor=ev["coordinator"])
    decisions.record_decision(
        ev["call"],
        number="3/2026",
        decided_on=utcnow().date(),
        file_data=factories.sample_pdf(),
        filename="l.pdf",
        outcomes={},
        actor=ev["coordinator"],
    )
    return ev
