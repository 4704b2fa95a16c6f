"""People pages for administrators and district coordinators.

Administrators: every district and account, invitations, the outbox. District coordinators: their
own district: its teachers by pathway, invitations, enrolments.

Every check of role and district is made again by the services: these pages only offer what
the signed-in user may do.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import EmailField, IntegerField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, Optional

from badge_classes import PATHWAYS

from ..mail import LINK_KINDS, link_in, pending_count, recent_mail
from ..models import District, User
from ..people.accounts import ROLES
from ..people.districts import (
    CAPS,
    MINIMUM_TEACHERS,
    PeopleError,
    PeopleNotFound,
    check_year,
    create_district,
    district_for,
    enrol,
    enrolment_of,
    get_district,
    get_person,
    list_districts,
    list_people,
    pathway_counts,
    programme_year,
    roster,
    set_active,
    update_person,
    withdraw,
)
from ..people.invitations import invite, issue_reset, pending_invitations
from ..runtime import runtime
from .auth import roles_required
from .errors import status_for

bp = Blueprint("people", __name__)
# Mistakes in what was asked (answered on the page, with the input kept); Forbidden goes to the error page.
FORM_ERRORS = (PeopleError,)  # every refusal of the people services (CapReached, PasswordRejected, ...)


def _roles_field() -> SelectMultipleField:
    # Values are checked by the services (which say what is wrong), not by the field.
    return SelectMultipleField("Roles", choices=list(ROLES), validate_choice=False,
                               widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput())


class DistrictForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    code = StringField("Code (for example MCS)", validators=[DataRequired(), Length(max=40)])


class InviteForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=320)])
    display_name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    roles = _roles_field()
    district_id = IntegerField("District", validators=[Optional()])  # the page offers a select of districts
    pathway = StringField("Pathway", validators=[Optional(), Length(max=20)])
    year = StringField("Programme year", validators=[Optional(), Length(max=9)])


class PersonForm(FlaskForm):
    roles = _roles_field()
    district_id = IntegerField("Home district", validators=[Optional()])


class EnrolForm(FlaskForm):
    user_id = IntegerField(validators=[DataRequired()])
    pathway = StringField(validators=[Optional(), Length(max=20)])


def _today_year() -> str:
    return programme_year(datetime.now(UTC).date())


def _actor(db: Session) -> User:
    return db.get(User, g.user.id)


def _district_choices(db: Session) -> list[tuple[int, str]]:
    return [(s.district.id, f"{s.district.name} ({s.district.code})") for s in list_districts(db, _today_year())]


def _district(db: Session, district_id: int) -> District | None:
    return get_district(db, district_id) if district_id else None


@bp.get("/")
@roles_required("admin", "coordinator")
def index():
    if "admin" in g.user.roles:
        return redirect(url_for("people.districts"))
    if g.user.district_id is None:
        return render_template("error.html", status=403, message="Your account has no district yet: an "
                               "administrator sets it."), 403
    return redirect(url_for("people.district", district_id=g.user.district_id))


@bp.route("/districts", methods=["GET", "POST"])
@roles_required("admin")
def districts():
    form, error, status = DistrictForm(), None, 200
    year = check_year(request.args.get("year") or _today_year())
    if form.validate_on_submit():
        try:
            with runtime().database.transaction() as db:
                created = create_district(db, name=form.name.data, code=form.code.data, actor=_actor(db))
                flash(f"District {created.name} ({created.code}) added.")
            return redirect(url_for("people.districts"))
        except FORM_ERRORS as exc:
            error, status = exc.message, status_for(exc)
    elif request.method == "POST":
        error, status = "Give the district a name and a code.", 400
    with runtime().database.transaction() as db:
        summaries = list_districts(db, year)
    return render_template("people/districts.html", summaries=summaries, year=year, form=form, error=error,
                           caps=CAPS, pathways=PATHWAYS, minimum=MINIMUM_TEACHERS), status


@bp.get("/districts/<int:district_id>")
@roles_required("admin", "coordinator")
def district(district_id: int):
    return _district_page(district_id, check_year(request.args.get("year") or _today_year()))


def _district_page(district_id: int, year: str, *, error: str | None = None, status: int = 200):
    with runtime().database.transaction() as db:
        place = district_for(db, _actor(db), district_id)
        counts = pathway_counts(db, place, year)
        enrolled, others = roster(db, place, year)
        invitations = pending_invitations(db, district_id=place.id)
    return render_template("people/district.html", district=place, year=year, current_year=_today_year(),
                           counts=counts, total=sum(counts.values()), enrolled=enrolled, others=others,
                           invitations=invitations, caps=CAPS, pathways=PATHWAYS, minimum=MINIMUM_TEACHERS,
                           error=error), status


@bp.post("/districts/<int:district_id>/enrol")
@roles_required("admin", "coordinator")
def enrol_teacher(district_id: int):
    """Enrol a teacher for the current programme year, or move them to the other pathway."""
    form, year = EnrolForm(), _today_year()
    if not form.validate():
        return _district_page(district_id, year, error="Choose a teacher and a pathway.", status=400)
    try:
        with runtime().database.transaction() as db:
            actor = _actor(db)
            place = district_for(db, actor, district_id)
            person = get_person(db, form.user_id.data)
            enrol(db, user=person, district=place, pathway=form.pathway.data, year=year, actor=actor)
            flash(f"{person.display_name}: {PATHWAYS[form.pathway.data]} pathway in {place.name}, {year}.")
    except FORM_ERRORS as exc:
        return _district_page(district_id, year, error=exc.message, status=status_for(exc))
    return redirect(url_for("people.district", district_id=district_id))


@bp.post("/districts/<int:district_id>/withdraw")
@roles_required("admin", "coordinator")
def withdraw_teacher(district_id: int):
    form, year = EnrolForm(), _today_year()
    try:
        with runtime().database.transaction() as db:
            actor = _actor(db)
            district_for(db, actor, district_id)
            person = get_person(db, form.user_id.data or 0)
            current = enrolment_of(db, person, year)
            if current is None or current.district_id != district_id:
                raise PeopleNotFound(f"{person.display_name} is not enrolled in this district in {year}.")
            withdraw(db, user=person, year=year, actor=actor)
            flash(f"{person.display_name} is no longer enrolled in {year}.")
    except FORM_ERRORS as exc:
        return _district_page(district_id, year, error=exc.message, status=status_for(exc))
    return redirect(url_for("people.district", district_id=district_id))


@bp.route("/invite", methods=["GET", "POST"])
@roles_required("admin", "coordinator")
def invite_person():
    rt = runtime()
    is_admin = "admin" in g.user.roles
    form = InviteForm(year=_today_year(), roles=["teacher"], district_id=g.user.district_id)
    error, status = None, 200
    if form.validate_on_submit():
        try:
            with rt.database.transaction() as db:
                _invitation, token = invite(db, actor=_actor(db), settings=rt.settings, email=form.email.data,
                                            display_name=form.display_name.data, roles=form.roles.data or [],
                                            district=_district(db, form.district_id.data),
                                            pathway=form.pathway.data or None, year=form.year.data or _today_year())
            flash(f"Invitation sent to {form.email.data.strip().lower()}; the link works for 14 days.")
            if not rt.settings.smtp_url:
                flash(f"Mail is not configured; the link is: {rt.settings.public_url}/invitations/{token}")
            return redirect(url_for("people.invite_person"))
        except FORM_ERRORS as exc:
            error, status = exc.message, status_for(exc)
    elif request.method == "POST":
        error, status = "Give the person's email address and name.", 400
    with rt.database.transaction() as db:
        pending = pending_invitations(db, district_id=None if is_admin else g.user.district_id)
        own = db.get(District, g.user.district_id) if g.user.district_id and not is_admin else None
        districts = _district_choices(db) if is_admin else []
    return render_template("people/invite.html", form=form, is_admin=is_admin, own_district=own, districts=districts,
                           pending=pending, pathways=PATHWAYS, error=error), status


@bp.get("/accounts")
@roles_required("admin")
def accounts():
    search = request.args.get("q", "")[:200]
    with runtime().database.transaction() as db:
        people = list_people(db, search=search)
        names = {s.district.id: s.district.code for s in list_districts(db, _today_year())}
    return render_template("people/accounts.html", people=people, search=search, district_codes=names)


@bp.route("/accounts/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def account(user_id: int):
    error, status = None, 200
    with runtime().database.transaction() as db:
        person = get_person(db, user_id)
        form = PersonForm(roles=person.roles, district_id=person.district_id)
    if form.validate_on_submit():
        try:
            with runtime().database.transaction() as db:
                update_person(db, person=get_person(db, user_id), roles=form.roles.data or [],
                              district=_district(db, form.district_id.data), actor=_actor(db))
            flash(f"{person.email}: saved.")
            return redirect(url_for("people.account", user_id=user_id))
        except FORM_ERRORS as exc:
            error, status = exc.message, status_for(exc)
    with runtime().database.transaction() as db:
        person = get_person(db, user_id)
        current = enrolment_of(db, person, _today_year())
        enrolment = (current.district.name, PATHWAYS[current.pathway], current.year) if current else None
        districts = _district_choices(db)
    return render_template("people/account.html", person=person, form=form, enrolment=enrolment,
                           districts=districts, error=error), status


@bp.post("/accounts/<int:user_id>/active")
@roles_required("admin")
def account_active(user_id: int):
    active = request.form.get("active") == "1"
    try:
        with runtime().database.transaction() as db:
            person = get_person(db, user_id)
            set_active(db, person=person, active=active, actor=_actor(db))
            flash(f"{person.email} is {'active again' if active else 'deactivated: every session has ended'}.")
    except FORM_ERRORS as exc:
        return render_template("error.html", status=status_for(exc), message=exc.message), status_for(exc)
    return redirect(url_for("people.account", user_id=user_id))


@bp.post("/accounts/<int:user_id>/reset")
@roles_required("admin")
def account_reset(user_id: int):
    """Send the person a password reset link (valid one hour)."""
    rt = runtime()
    with rt.database.transaction() as db:
        person = get_person(db, user_id)
        if not person.active:
            raise PeopleError(f"{person.email} is deactivated: reactivate the account first.")
        token = issue_reset(db, person, settings=rt.settings, actor=g.user.email)
    flash(f"A password reset link was sent to {person.email}; it works once, within the hour.")
    if not rt.settings.smtp_url:
        flash(f"Mail is not configured; the link is: {rt.settings.public_url}/reset/{token}")
    return redirect(url_for("people.account", user_id=user_id))


@bp.get("/outbox")
@roles_required("admin")
def outbox():
    """Recent mail; without SMTP settings, with the links, so the demo works without mail."""
    rt = runtime()
    with rt.database.transaction() as db:
        messages = recent_mail(db, to=request.args.get("to") or None, limit=100)
        waiting = pending_count(db)
    show_links = not rt.settings.smtp_url
    links = {m.id: link_in(m.body) for m in messages if show_links and m.kind in LINK_KINDS}
    return render_template("people/outbox.html", messages=messages, links=links, waiting=waiting,
                           configured=not show_links)
