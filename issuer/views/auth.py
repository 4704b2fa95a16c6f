"""Sign in and out; the signed-in user for every request; role checks for other blueprints."""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..auth import LOGIN_FAILED, TooManyAttempts, authenticate, require_roles
from ..models import User
from ..runtime import runtime

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


@bp.before_app_request
def load_user() -> None:
    g.user = None
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return  # no session: leave it untouched, so public answers carry no "Vary: Cookie"
    user_id = session.get("user_id")
    if user_id is not None:
        with runtime().database.transaction() as db:
            user = db.get(User, user_id)
        if user is None or user.session_epoch != session.get("epoch"):
            session.clear()  # the account is gone, or it signed out since this session was made
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
                user = authenticate(db, form.email.data, form.password.data, address=request.remote_addr or "?")
                user_id, epoch = (user.id, user.session_epoch) if user else (None, None)
        except TooManyAttempts as exc:
            error, status = exc.message, exc.http_status
        else:
            if user_id is None:
                return render_template("auth/login.html", form=form, error=LOGIN_FAILED), 401
            session.clear()  # a fresh session on sign-in (no fixation)
            session["user_id"], session["epoch"] = user_id, epoch
            session.permanent = True
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


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("public.home")
