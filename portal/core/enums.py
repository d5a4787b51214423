"""Enumerations shared across domains, with translated labels."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext


class Role(StrEnum):
    """What a membership lets its user do, always within its scope (DESIGN §1)."""

    APPLICANT = "applicant"
    EVALUATOR = "evaluator"
    COORDINATOR = "coordinator"
    NATIONAL_ADMIN = "national_admin"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.APPLICANT: lazy_pgettext("role", "Applicant"),
    Role.EVALUATOR: lazy_pgettext("role", "Evaluator"),
    Role.COORDINATOR: lazy_pgettext("role", "Municipality coordinator"),
    Role.NATIONAL_ADMIN: lazy_pgettext("role", "National administrator"),
}

STAFF_ROLES = frozenset({Role.EVALUATOR, Role.COORDINATOR, Role.NATIONAL_ADMIN})


class LegalForm(StrEnum):
    """Eligible applicant types (DESIGN §2)."""

    YOUTH_ORGANISATION = "youth_organisation"
    ASSOCIATION = "association"
    FOUNDATION = "foundation"
    INITIATIVE_GROUP = "initiative_group"

    @property
    def label(self):
        return LEGAL_FORM_LABELS[self]


LEGAL_FORM_LABELS = {
    LegalForm.YOUTH_ORGANISATION: _l("Youth organisation"),
    LegalForm.ASSOCIATION: _l("Association doing youth work"),
    LegalForm.FOUNDATION: _l("Foundation doing youth work"),
    LegalForm.INITIATIVE_GROUP: _l("Youth initiative group"),
}

REGISTERED_LEGAL_FORMS = frozenset(
    {LegalForm.YOUTH_ORGANISATION, LegalForm.ASSOCIATION, LegalForm.FOUNDATION}
)
