"""Fixtures of the contract and payment tests."""

import pytest

from tests import factories


@pytest.fixture()
def funded(db):
    """A decided call with one funded application (the other on the reserve list)."""
    ev = factories.decided_call(2, funded=1, scores=(3, 2))
    return ev
