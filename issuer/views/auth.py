"""Sign in and out; the signed-in user for every request; role checks for other blueprints."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..errors import IssuerError
from ..models import LoginFailure, User
from ..people.auth import LOGIN_FAILED, TooManyAttempts, authenticate, require_roles
from ..people.invitations import accept_invitation, complete_reset, find_invitation, find_reset, request_reset
from ..runtime import runtime
from .errors import status_for

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password (at least 12 characters)", validators=[DataRequired(), Length(max=1000)])
    confirm = PasswordField("The same password again",
                            validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")])


class AcceptInvitationForm(NewPasswordForm):
    display_name = StringField("Your name", validators=[DataRequired(), Length(max=200)])


class ResetRequestForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=320)])


RESET_REQUESTED = ("If the address has an account, a link to choose a new password is on its way. "
                   "It works once, within the hour.")


@bp.before_app_request
def load_user() -> None:
    g.user = None
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return  # no session: leave it untouched, so public answers carry no "Vary: Cookie"
    user_id = session.get("user_id")
    if user_id is not None:
        with runtime().database.transaction() as db:
            user = db.get(User, user_id)
        if user is None or not user.active or user.session_epoch != session.get("epoch"):
            session.clear()  # the account is gone or deactivated, or it signed out since this session was made
        else:
            g.user = user


@bp.app_context_processor
def inject_user() -> dict[str, Any]:
    return {"current_user": g.get("user")}


def roles_required(*roles: str) -> Callable:
    """View decorator: signed in (else redirect to sign in) and holding one of `roles` (else 403)."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                # Come back here after signing in, unless this was a form post (not repeatable).
                target = request.full_path.rstrip("?") if request.method == "GET" else None
                return redirect(url_for("auth.login", next=target))
            require_roles(g.user, *roles)
            return view(*args, **kwargs)
        return wrapped
    return decorate


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            with runtime().database.transaction() as db:
                address = request.remote_addr or "?"
                user = authenticate(db, form.email.data, form.password.data, address=address)
                if user is not None and not user.active:
                    # A deactivated account: the same answer as a wrong password, counted like one.
                    db.add_all(LoginFailure(key=key) for key in (f"account:{user.email.lower()}", f"address:{address}"))
                    user = None
                user_id, epoch = (user.id, user.session_epoch) if user else (None, None)
        except TooManyAttempts as exc:
            error, status = exc.message, status_for(exc)
        else:
            if user_id is None:
                return render_template("auth/login.html", form=form, error=LOGIN_FAILED), 401
            _start_session(user_id, epoch)
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        error, status = "Enter your email address and password.", 400
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    if g.get("user") is not None:
        with runtime().database.transaction() as db:
            user = db.get(User, g.user.id)
            if user is not None:
                user.session_epoch += 1  # every copy of this user's sessions ends here
    session.clear()
    return redirect(url_for("public.home"))


@bp.after_request
def _no_referrer(response):
    """Links with a token in them must not leak it to another site through the Referer header."""
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """Accept an invitation: choose a name and password; the account is created and signed in."""
    rt = runtime()
    with rt.database.transaction() as db:
        pending = find_invitation(db, token)  # unknown: 404; used or expired: 410
        email, name = pending.email, pending.display_name
    form = AcceptInvitationForm(display_name=name)
    error, status = None, 200
    if form.validate_on_submit():
        try:
            with rt.database.transaction() as db:
                user = accept_invitation(db, token, password=form.password.data, display_name=form.display_name.data)
                user_id, epoch = user.id, user.session_epoch
        except IssuerError as exc:
            error, status = exc.message, status_for(exc)
        else:
            _start_session(user_id, epoch)
            flash("Welcome: your account is ready and you are signed in.")
            return redirect(url_for("public.home"))
    elif request.method == "POST":
        error, status = _first_error(form), 400
    return render_template("auth/accept_invitation.html", form=form, email=email, error=error), status


@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    """Ask for a reset link. The answer is the same whether or not the address has an account."""
    rt = runtime()
    form = ResetRequestForm()
    if form.validate_on_submit():
        with rt.database.transaction() as db:
            request_reset(db, form.email.data, settings=rt.settings)
        flash(RESET_REQUESTED)
        if not rt.settings.smtp_url:
            flash("Mail is not configured on this service: an administrator can pass the link on from the outbox.")
        return redirect(url_for("auth.login"))
    error = "Enter your email address." if request.method == "POST" else None
    return render_template("auth/reset_request.html", form=form, error=error), 400 if error else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password with a reset link; every session of the account ends."""
    rt = runtime()
    with rt.database.transaction() as db:
        find_reset(db, token)  # unknown: 404; used, expired or deactivated: 410
    form = NewPasswordForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            with rt.database.transaction() as db:
                complete_reset(db, token, form.password.data)
        except IssuerError as exc:
            error, status = exc.message, status_for(exc)
        else:
            session.clear()
            flash("Your password is changed and every session of your account has ended: sign in with it now.")
            return redirect(url_for("auth.login"))
    elif request.method == "POST":
        error, status = _first_error(form), 400
    return render_template("auth/reset_password.html", form=form, error=error), status


def _start_session(user_id: int, epoch: int) -> None:
    session.clear()  # a fresh session on sign-in (no fixation)
    session["user_id"], session["epoch"] = user_id, epoch
    session.permanent = True


def _first_error(form: FlaskForm) -> str:
    for field in form:
        if field.errors:
            message = field.errors[0]
            return message if field.name == "confirm" else f"{field.label.text}: {message}"
    return "Check the form and try again."


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("public.home")
