"""Call statuses and transitions (DESIGN §4): draft → open → closed → evaluation → decided →
results published → archived."""

from enum import StrEnum

from flask_babel import lazy_pgettext


class CallStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    EVALUATION = "evaluation"
    DECIDED = "decided"
    RESULTS_PUBLISHED = "results_published"
    ARCHIVED = "archived"

    @property
    def label(self):
        return CALL_STATUS_LABELS[self]


CALL_STATUS_LABELS = {
    CallStatus.DRAFT: lazy_pgettext("call", "Draft"),
    CallStatus.OPEN: lazy_pgettext("call", "Open"),
    CallStatus.CLOSED: lazy_pgettext("call", "Closed"),
    CallStatus.EVALUATION: lazy_pgettext("call", "Being evaluated"),
    CallStatus.DECIDED: lazy_pgettext("call", "Decided"),
    CallStatus.RESULTS_PUBLISHED: lazy_pgettext("call", "Results published"),
    CallStatus.ARCHIVED: lazy_pgettext("call", "Archived"),
}
