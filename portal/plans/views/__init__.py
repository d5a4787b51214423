"""Prevention-plan pages (issue 8): the municipality's PMP prevention plan (entered in the browser or
imported from the portal's XLSX/CSV template), the projects under each activity, and the monitoring table
with its annual XLSX/PDF report. All routes hang on the one `plans` blueprint, at /plans."""

from flask import Blueprint

bp = Blueprint("plans", __name__)

# The route modules register themselves on `bp` when imported.
from portal.plans.views import monitoring, plans  # noqa: E402, F401
