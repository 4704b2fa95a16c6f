"""Sharing a credential: baked images, QR codes, the printable certificate, and the teacher's backpack."""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..credentials.sharing import (
    backpack,
    baked_png,
    baked_svg,
    display_name,
    linkedin_fields,
    own_credential,
    public_url,
    qr_png,
    qr_svg,
    rotate_link,
    update_sharing,
    zip_of,
)
from ..errors import IssuerError, NotFound, UnknownAchievementError
from ..models import Credential
from ..runtime import runtime
from .auth import roles_required

bp = Blueprint("sharing", __name__)


def visible_credential(session: Session, public_id: str) -> Credential:
    """The credential behind a share link; a private one only for its owner (404 to everyone else)."""
    row = session.scalar(select(Credential).where(Credential.public_id == public_id))
    viewer = g.get("user")
    if row is None or (row.visibility != "public" and (viewer is None or viewer.id != row.recipient_user_id)):
        raise UnknownAchievementError("There is no such credential, or its owner keeps it private.")
    return row


def _file(data: bytes | str, mimetype: str, *, download: str | None = None, private: bool = False) -> Response:
    body = data.encode("utf-8") if isinstance(data, str) else data
    response = Response(body, mimetype=mimetype)
    response.set_etag(hashlib.sha256(body).hexdigest())
    response.headers["Cache-Control"] = "private, no-cache" if private else "public, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{download}"'
    return response.make_conditional(request)


@bp.get("/credentials/<public_id>/badge.png")
def baked_badge_png(public_id: str):
    """The badge image with this credential baked in (Open Badges 3.0 baking)."""
    with runtime().database.transaction() as session:
        row = visible_credential(session, public_id)
        return _file(baked_png(session, row), "image/png", download=f"{row.achievement_slug}-badge.png",
                     private=row.visibility != "public")


@bp.get("/credentials/<public_id>/badge.svg")
def baked_badge_svg(public_id: str):
    with runtime().database.transaction() as session:
        row = visible_credential(session, public_id)
        return _file(baked_svg(session, row), "image/svg+xml", download=f"{row.achievement_slug}-badge.svg",
                     private=row.visibility != "public")


@bp.get("/credentials/<public_id>/qr.<fmt>")
def qr_code(public_id: str, fmt: str):
    """A QR code of the credential's page, SVG or PNG."""
    rt = runtime()
    with rt.database.transaction() as session:
        row = visible_credential(session, public_id)
        url = public_url(rt.settings.public_url, row)
        private = row.visibility != "public"
    if fmt == "svg":
        return _file(qr_svg(url), "image/svg+xml", private=private)
    if fmt == "png":
        return _file(qr_png(url), "image/png", private=private)
    raise UnknownAchievementError("QR codes come as .svg or .png.")


@bp.get("/credentials/<public_id>/certificate")
def certificate(public_id: str):
    """A one-page printable certificate carrying the QR code (print it, or save it as PDF)."""
    rt = runtime()
    with rt.database.transaction() as session:
        row = visible_credential(session, public_id)
        document = json.loads(row.document)
        url = public_url(rt.settings.public_url, row)
        page = render_template("credentials/certificate.html", row=row, document=document, name=display_name(row),
                               url=url, qr=qr_svg(url))
    response = Response(page)
    if not row.indexable:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/my/credentials")
@roles_required("teacher")
def backpack_page():
    """Every credential the teacher earned, with its share controls."""
    rt = runtime()
    with rt.database.transaction() as session:
        rows = backpack(session, g.user)
        cards = [_card(row, json.loads(row.document), rt.settings) for row in rows]
    return render_template("credentials/backpack.html", cards=cards)


def _card(row: Credential, document: dict, settings) -> dict:
    return {"row": row, "document": document, "url": public_url(settings.public_url, row),
            "linkedin": linkedin_fields(row, document, base_url=settings.public_url,
                                        organization_id=settings.linkedin_organization_id)}


@bp.post("/my/credentials/<public_id>/sharing")
@roles_required("teacher")
def change_sharing(public_id: str):
    try:
        with runtime().database.transaction() as session:
            row = own_credential(session, g.user, public_id)
            update_sharing(session, row, actor=g.user, visibility=request.form.get("visibility", ""),
                           name_display=request.form.get("name_display", ""),
                           indexable=request.form.get("indexable") == "on",
                           shown_evidence=request.form.getlist("shown_evidence"))
    except IssuerError as exc:
        if isinstance(exc, NotFound):
            raise
        flash(exc.message, "error")
        return redirect(url_for("sharing.backpack_page")), 303
    flash("Your sharing choices are saved.")
    return redirect(url_for("sharing.backpack_page") + f"#credential-{public_id}")


@bp.post("/my/credentials/<public_id>/rotate")
@roles_required("teacher")
def rotate(public_id: str):
    """A new share link; the old one answers 404 from now on."""
    with runtime().database.transaction() as session:
        new_id = rotate_link(session, own_credential(session, g.user, public_id), actor=g.user)
    flash("Your credential has a new link. The old link no longer works; share the new one.")
    return redirect(url_for("sharing.backpack_page") + f"#credential-{new_id}")


@bp.get("/my/credentials.zip")
@roles_required("teacher")
def download_all():
    with runtime().database.transaction() as session:
        data = zip_of(backpack(session, g.user))
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = 'attachment; filename="my-micro-credentials.zip"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
