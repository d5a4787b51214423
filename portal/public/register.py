"""The national register of funded projects (issue 6): every funded project of a call whose results
are published, filterable by municipality, programme, round and status, and each project's page.

What a project achieved (participants, PMP-risk share, results) appears once its final report is
approved; until then `data.project()` gives `achieved=None` and the page says so.
"""

from __future__ import annotations

from functools import partial

from flask import abort, render_template

from portal.core import paging
from portal.core.pagecache import public_page
from portal.public import data, filtering
from portal.public.views import bp


@bp.get("/projects/")
@public_page
def list_projects():
    choices = filtering.filter_choices()
    filters = filtering.read_filters(choices, status=True)
    rows, pager = paging.paged(partial(data.funded_projects, filters))
    return render_template(
        "public/list_projects.html",
        rows=rows,
        **pager,
        choices=choices,
        filters=filters,
        filtered=filtering.is_filtered(filters),
    )


@bp.get("/projects/<int:application_id>")
def show_project(application_id: int):
    project = data.project(application_id)
    if project is None:
        abort(404)
    return render_template("public/show_project.html", project=project)
