"""Programme dashboards under /dashboards: the department's, each district's, CSVs, the research export.

The department's (administrators: every district) and each district's (its coordinator, or an
administrator), CSV downloads of every table, and the de-identified research export. Assessors and
teachers see none of it: every view checks the role, and the district, on the server.
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import UTC, datetime

from flask import Blueprint, Response, g, redirect, render_template, request, send_file, url_for
from markupsafe import Markup
from marshmallow import Schema, ValidationError, fields, validate, validates
from sqlalchemy import select

from badge_classes import PATHWAYS

from ..audit import record_event
from ..errors import Forbidden, InvalidInput, IssuerError, NotFound
from ..models import AuditEvent, User
from ..people.districts import check_year, district_for, programme_year
from ..programme import reports, research_export
from ..programme.charts import bar_chart
from ..programme.dashboards import years_with_data
from ..runtime import runtime
from .auth import roles_required

bp = Blueprint("dashboards", __name__)
DEFAULT_WEEKS = 4


class BadQuery(InvalidInput):
    code = "invalid_query"


class _Query(Schema):
    """The dashboards' query string: a programme year and the weeks that make a teacher 'inactive'."""

    year = fields.String(load_default=None)
    weeks = fields.Integer(load_default=DEFAULT_WEEKS, validate=validate.Range(
        1, 104, error="weeks must be a whole number from 1 to 104."))

    @validates("year")
    def _year(self, value: str | None, **_kwargs) -> None:
        if value is not None:
            try:
                check_year(value)
            except IssuerError as exc:
                raise ValidationError(exc.message) from None


def _query() -> tuple[str, int, datetime]:
    now = datetime.now(UTC)
    try:
        args = _Query().load({k: v for k, v in request.args.items() if k in ("year", "weeks") and v != ""})
    except ValidationError as exc:
        messages = exc.normalized_messages()
        detail = "; ".join(f"{name}: {m[0] if isinstance(m, list) else m}" for name, m in messages.items())
        raise BadQuery(f"The address asks for something this page cannot show ({detail}).") from None
    return args["year"] or programme_year(now.date()), args["weeks"], now


@bp.get("/")
@roles_required("admin", "coordinator")
def index():
    """Administrators to the department's dashboard, coordinators to their district's."""
    if g.user.has_role("admin"):
        return redirect(url_for("dashboards.department"))
    if g.user.district_id is None:
        raise Forbidden("Your account has no district yet: an administrator sets it.")
    return redirect(url_for("dashboards.district", district_id=g.user.district_id))


@bp.get("/department")
@roles_required("admin")
def department():
    year, weeks, now = _query()
    with runtime().database.transaction() as session:
        report = reports.department(session, year, weeks=weeks, now=now)
        years = years_with_data(session, now.date())
    return render_template("dashboards/department.html", report=report, years=years, weeks=weeks,
                           charts=_department_charts(report), pathways=PATHWAYS)


@bp.get("/department/<table>.csv")
@roles_required("admin")
def department_csv(table: str):
    year, weeks, now = _query()
    with runtime().database.transaction() as session:
        report = reports.department(session, year, weeks=weeks, now=now, only=table)
    return _csv(report, table, f"department-{year}")


@bp.get("/districts/<int:district_id>")
@roles_required("admin", "coordinator")
def district(district_id: int):
    year, weeks, now = _query()
    with runtime().database.transaction() as session:
        place = district_for(session, g.user, district_id)  # Forbidden for another district's coordinator
        report = reports.district(session, year, district_id=district_id, weeks=weeks, now=now)
        years = years_with_data(session, now.date())
    return render_template("dashboards/district.html", report=report, district=place, years=years, weeks=weeks,
                           charts=_district_charts(report))


@bp.get("/districts/<int:district_id>/<table>.csv")
@roles_required("admin", "coordinator")
def district_csv(district_id: int, table: str):
    year, weeks, now = _query()
    with runtime().database.transaction() as session:
        place = district_for(session, g.user, district_id)
        report = reports.district(session, year, district_id=district_id, weeks=weeks, now=now)
        if table in ("teachers", "inactive"):  # names and emails leave the service: on the record
            record_event(session, actor=g.user.email, action="district.exported", subject=f"district:{place.code}",
                         detail={"table": table, "year": year})
    return _csv(report, table, f"{place.code.lower()}-{year}")


@bp.route("/research-export", methods=["GET", "POST"])
@roles_required("admin")
def research():
    """GET: what the export holds and who exported it before; POST: the zip (audited)."""
    now = datetime.now(UTC)
    rt = runtime()
    if request.method == "POST":
        years = request.form.getlist("year")
        try:
            years = sorted({check_year(y) for y in years})
        except IssuerError as exc:
            raise BadQuery(exc.message) from None
        if not years:
            raise BadQuery("Choose at least one programme year to export.")
        out = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it after the response
        try:
            with rt.database.transaction() as session:
                actor = session.get(User, g.user.id)
                research_export.export(session, out, settings=rt.settings, years=years, actor=actor.email,
                                       include_comments=request.form.get("comments") == "yes", now=now)
        except BaseException:
            out.close()
            raise
        name = f"microcred-research-{'_'.join(years)}-{now:%Y%m%d}.zip"
        return send_file(out, mimetype="application/zip", as_attachment=True, download_name=name, max_age=0)
    with rt.database.transaction() as session:
        years = years_with_data(session, now.date())
        history = session.scalars(select(AuditEvent)
                                  .where(AuditEvent.action == "research.exported")
                                  .order_by(AuditEvent.at.desc()).limit(20)).all()
    return render_template("dashboards/research.html", years=years, history=history,
                           dictionary=research_export.DICTIONARY, comment=research_export.COMMENT_COLUMN)


@bp.app_template_filter("figure")
def figure(value: object) -> Markup | str:
    """A figure as the tables show it: thousands separated, one decimal, a dash for no data."""
    if value is None:
        return Markup('<span aria-label="no data">–</span>')
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _csv(report: reports.Report, table_id: str, stem: str) -> Response:
    table = report.tables.get(table_id)
    if table is None:
        raise NotFound(f"There is no table {table_id!r} here; choose one of {', '.join(report.tables)}.",
                       code="invalid_query")
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(table.columns)
    writer.writerows([["" if v is None else v for v in row] for row in table.rows])
    return Response(text.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{stem}-{table_id}.csv"', "Cache-Control": "private, no-store"})


def _department_charts(report: reports.Report) -> dict[str, object]:
    months, badges, surveys = report.tables["months"], report.tables["badge-classes"], report.tables["surveys"]
    return {
        "months": bar_chart("Submissions and decisions per month", months.column("Month"),
                            [("Submitted", months.column("Submitted")), ("Earned", months.column("Earned")),
                             ("Not yet", months.column("Not yet"))], table_id="months"),
        "pass": bar_chart("Pass rate of decided attempts by micro-credential (%)", badges.column("Micro-credential"),
                          [("Pass rate", badges.column("Pass rate (%)"))], unit="%", maximum=100,
                          table_id="badge-classes"),
        "surveys": bar_chart("Teachers' mean ratings by micro-credential (1-5)", surveys.column("Micro-credential"),
                             [(label.split(" (")[0], surveys.column(f"{label} (mean, 1-5)"))
                              for label in reports.RATING_LABELS.values()], maximum=5, table_id="surveys"),
    }


def _district_charts(report: reports.Report) -> dict[str, object]:
    months, badges = report.tables["months"], report.tables["badge-classes"]
    return {
        "months": bar_chart("Submissions and decisions per month", months.column("Month"),
                            [("Submitted", months.column("Submitted")), ("Earned", months.column("Earned")),
                             ("Not yet", months.column("Not yet"))], table_id="months"),
        "badges": bar_chart("Work started and earned by micro-credential", badges.column("Micro-credential"),
                            [("Started", badges.column("Started")), ("Earned", badges.column("Earned"))],
                            table_id="badge-classes"),
    }
