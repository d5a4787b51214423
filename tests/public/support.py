"""Building calls with decided and published results for the public pages' tests (issue 6).

`results_call()` runs the real evaluation path (check, score, consolidate, decide, publish) so the data
the public pages read is the data the portal really produces. Every personal or unpublished detail gets
a distinctive string (`SECRETS`) that a test can look for in a public response.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from unittest import mock

from portal.core.timeutil import riga_today
from tests import factories

# Strings that must never appear on a public page, feed or embed (personal data, comments, IBANs).
SECRET_CONTACT_NAME = "Kontaktpersona Slepenvārde"
SECRET_CONTACT_EMAIL = "slepena.kontaktpersona@example.lv"
SECRET_CONTACT_PHONE = "+371 2999 1234"
SECRET_IBAN = "LV97HABA0551099999999"
SECRET_ORG_EMAIL = "slepena.biedriba@example.lv"
SECRET_ORG_PHONE = "+371 6777 4321"
SECRET_APPLICANT = "Pieteicējs Neredzamais"
SECRET_APPLICANT_EMAIL = "neredzamais.pieteicejs@example.lv"
SECRET_COMMENT = "Vērtētāja slepenais komentārs"
SECRETS = (
    SECRET_CONTACT_NAME,
    SECRET_CONTACT_EMAIL,
    SECRET_CONTACT_PHONE,
    SECRET_IBAN,
    SECRET_ORG_EMAIL,
    SECRET_ORG_PHONE,
    SECRET_APPLICANT,
    SECRET_APPLICANT_EMAIL,
    SECRET_COMMENT,
)

# Member scores per application, in order: two funded, one on the reserve list, one that fails.
SCORES = ([3, 3, 3], [3, 2, 2], [2, 2, 2], [0, 0, 0])


@dataclass
class ResultsCall:
    call: object
    coordinator: object
    funded: list = field(default_factory=list)
    reserve: list = field(default_factory=list)
    not_funded: list = field(default_factory=list)
    rejected: list = field(default_factory=list)

    @property
    def applications(self) -> list:
        return self.funded + self.reserve + self.not_funded + self.rejected


def results_call(
    tag: str,
    *,
    publish: bool = True,
    muni_code: str = "0020000",
    with_rejected: bool = True,
    scores: tuple = SCORES,
) -> ResultsCall:
    """Return a decided call (published unless told not to) whose titles all contain `tag`: with the
    default `scores` two funded applications, one on the reserve list, one not funded, and (unless told
    not to) one rejected in the check. The protocol PDF is not rendered (a stub PDF is stored): the
    public pages never show it, and rendering takes seconds."""
    from portal.evaluation.services import checks, decisions, publication

    muni = factories.municipality(muni_code)
    count = len(scores) + (1 if with_rejected else 0)
    built = factories.evaluation_call(applications=count, projects=2, quota=2, muni=muni)
    call, coordinator = built["call"], built["coordinator"]
    call.title = f"Konkurss {tag}"
    call.contact_name, call.contact_email, call.contact_phone = (
        f"{SECRET_CONTACT_NAME} {tag}",
        f"{tag.lower()}.{SECRET_CONTACT_EMAIL}",
        SECRET_CONTACT_PHONE,
    )
    for i, (application, user) in enumerate(zip(built["applications"], built["applicants"], strict=True)):
        application.title = f"Projekts {tag} nr. {i + 1}"
        organisation = application.organisation
        organisation.name = f"Biedrība {tag} {i + 1}"
        organisation.iban, organisation.email, organisation.phone = (
            SECRET_IBAN,
            f"{tag.lower()}{i}.{SECRET_ORG_EMAIL}",
            SECRET_ORG_PHONE,
        )
        user.full_name = f"{SECRET_APPLICANT} {tag} {i}"
        user.email = f"{tag.lower()}{i}.{SECRET_APPLICANT_EMAIL}"
    applications = list(built["applications"])
    rejected = []
    if with_rejected:
        rejected = [applications.pop()]
        checks.reject(rejected[0], "Neatbilst nolikumam", actor=coordinator)
    members = built["committee"]["members"]
    for application, values in zip(applications, scores, strict=True):
        for member, value in zip(members, values, strict=True):
            factories.score(member, application, value, comment=f"{SECRET_COMMENT} {tag}")
    decisions.consolidate_call(call, actor=coordinator)
    with mock.patch("portal.core.pdf.render_pdf", lambda *args, **kwargs: factories.sample_pdf()):
        decisions.record_decision(
            call,
            number=f"{tag}/2026",
            decided_on=riga_today(),
            file_data=factories.sample_pdf(),
            filename="lemums.pdf",
            outcomes={},
            actor=coordinator,
        )
    if publish:
        publication.publish_results(call, actor=coordinator)
    factories.db.session.flush()
    return ResultsCall(
        call=call,
        coordinator=coordinator,
        funded=[a for a in applications if a.status == "funded"],
        reserve=[a for a in applications if a.status == "reserve"],
        not_funded=[a for a in applications if a.status == "not_funded"],
        rejected=rejected,
    )
