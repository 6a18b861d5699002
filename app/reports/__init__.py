"""Timing reports for managers (contract §5): `/reports` and `/reports.csv`, same filters,
same rows. Filters live in the query string so a report can be shared as a link."""
from __future__ import annotations

import csv
import io
import re

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import select

from ..auth import role_required
from ..extensions import db
from ..domain.lifecycle import FULFILLMENT_TYPES
from ..models import Courier
from . import filters as report_filters, sections
from .queries import Guide
from .sections import build

bp = Blueprint("reports", __name__)


def _report():
    filters = report_filters.parse(request.args)
    tables = [] if filters.errors else build(filters, Guide.from_config(current_app.config))
    return filters, tables


def _describe(filters) -> str:
    store = (filters.store.name or filters.store.merchant_supplied_id) if filters.store else "all stores"
    parts = [f"{filters.start.isoformat()} to {filters.end.isoformat()} (store-local days)", store]
    if filters.fulfillment:
        parts.append(filters.fulfillment)
    if filters.courier is not None:
        parts.append(f"courier {filters.courier.name}")
    return ", ".join(parts)


@bp.get("/reports")
@role_required("manager")
def index():
    """The timing report: filters, charts, and a table under each chart."""
    filters, tables = _report()
    orders = tables[0].rows[0][0] if tables else 0
    couriers = db.session.execute(select(Courier).order_by(Courier.name)).scalars().all()
    stores = report_filters.all_stores()
    page = render_template(
        "reports/index.html", filters=filters, tables=tables, orders=orders, description=_describe(filters),
        stores=stores, couriers=couriers, fulfillment_types=FULFILLMENT_TYPES,
        charts={t.key: t.chart_data() for t in tables if t.chart is not None})
    return page, 400 if filters.errors else 200


@bp.get("/reports.csv")
@role_required("manager")
def export():
    """The same report as CSV: each table as a titled block, cells exactly as on the page."""
    filters, tables = _report()
    if filters.errors:
        return Response("\n".join(filters.errors) + "\n", status=400, mimetype="text/plain")
    out = io.StringIO()
    out.write("\ufeff")  # the byte-order mark: spreadsheets then read UTF-8 ("—", "→", "≤") as such
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Timing report", _inert(_describe(filters))])
    for table in tables:
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow([c.label for c in table.columns])
        for row in table.cells():
            writer.writerow([_inert(cell) if col.kind not in NUMERIC else cell
                             for col, cell in zip(table.columns, row)])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{_file_name(filters)}"'})


NUMERIC = (sections.COUNT, sections.MINUTES, sections.PERCENT)  # ours: a "-" there is a minus


def _inert(text: str) -> str:
    """Text a spreadsheet would run as a formula (a store or courier named "=HYPERLINK(…)")
    is kept as text: a leading apostrophe, as OWASP advises for CSV."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _file_name(filters) -> str:
    """The range and the filters, so two exports of the same days do not overwrite each other."""
    parts = ["passline-report", filters.start.isoformat(), filters.end.isoformat()]
    args = filters.query_args()
    parts += [args[k] for k in ("store", "fulfillment") if k in args]
    if "courier" in args:
        parts.append(f"courier-{args['courier']}")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts)) + ".csv"
