"""Fixtures of the organisations tests."""

from __future__ import annotations

import itertools

import pytest

from portal.core.enums import Role
from tests.factories import OrganisationFactory, UserFactory, membership, valid_reg_number

# OrganisationFactory's sequence can give two consecutive organisations the same number (when a
# block of ten holds no valid one, valid_reg_number moves into the next block); spacing by 100 cannot.
_REG_NUMBERS = itertools.count(20_000)


def new_org(**kwargs):
    """Return a new registered organisation with a registration number no other test object has."""
    kwargs.setdefault("reg_number", valid_reg_number(next(_REG_NUMBERS) * 10))
    return OrganisationFactory(**kwargs)


def add_member(org, *, representative: bool = False, **kwargs):
    """Return a new user who is a member (or representative) of the organisation."""
    user = UserFactory(**kwargs)
    membership(user, Role.APPLICANT, organisation=org, representative=representative)
    return user


@pytest.fixture()
def org(db):
    return new_org()


@pytest.fixture()
def rep(org):
    return add_member(org, representative=True)


@pytest.fixture()
def member(org):
    return add_member(org)
