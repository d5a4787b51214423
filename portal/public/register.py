"""The national register of funded projects (issue 6): every funded project of a call whose results
are published, filterable by municipality, programme, round and status, and each project's page.

What a project achieved (participants, PMP-risk share, results) appears once its final report is
approved; until then `data.project()` gives `achieved=None` and the page says so.
"""

from __future__ import annotations

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
    page = paging.page_arg()
    rows, total = data.funded_projects(filters, offset=paging.offset(page), limit=paging.PAGE_SIZE)
    paging.check_page(page, total)
    return render_template(
        "public/list_projects.html",
        rows=rows,
        total=total,
        page=page,
        pages=paging.pages(total),
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
