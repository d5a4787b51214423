"""Fixtures of the organisations tests."""

from __future__ import annotations

import pytest

from portal.core.enums import Role
from tests.factories import OrganisationFactory, UserFactory, membership


def add_member(org, *, representative: bool = False, **kwargs):
    """Return a new user who is a member (or representative) of the organisation."""
    user = UserFactory(**kwargs)
    membership(user, Role.APPLICANT, organisation=org, representative=representative)
    return user


@pytest.fixture()
def org(db):
    return OrganisationFactory()


@pytest.fixture()
def rep(org):
    return add_member(org, representative=True)


@pytest.fixture()
def member(org):
    return add_member(org)
