"""Closing-report pages (issue 8): the applicant's report form, the coordinator's review, the national
administrator's overview and audit export. All routes hang on the one `reports` blueprint, at /reports."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

# The route modules register themselves on `bp` when imported.
from portal.reports.views import export, form, national, review  # noqa: E402, F401
