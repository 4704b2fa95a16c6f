"""The department administrator's pages: the catalogue (add, edit, retire badge classes)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from badge_classes import PATHWAYS, DefinitionInvalid

from ..catalog.form import SIMPLE_FIELDS, STRUCTURED_KEYS, definition_from_form, form_values, save_from_form
from ..catalog.versions import all_current, current_badge, get_record, history, set_status
from ..errors import IssuerError
from ..runtime import runtime
from .auth import roles_required
from .errors import status_for

bp = Blueprint("admin", __name__)
MAX_IMAGE_UPLOAD = 2 * 1024 * 1024


@bp.get("/")
@roles_required("admin")
def index():
    return redirect(url_for("admin.catalog"))


@bp.get("/catalog")
@roles_required("admin")
def catalog():
    rt = runtime()
    with rt.database.transaction() as session:
        badges = all_current(session, include_retired=True)
        changed = {b.slug: history(session, b.slug)[0] for b in badges}
    return render_template("admin/catalog.html", badges=badges, changed=changed, policy=rt.catalog.policy,
                           catalog_dir=rt.catalog.directory)


@bp.route("/catalog/new", methods=["GET", "POST"])
@roles_required("admin")
def new_badge_class():
    if request.method == "GET":
        return _render_form(_blank_values(), creating=True)
    return _save(creating=True)


@bp.route("/catalog/<slug>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_badge_class(slug: str):
    with runtime().database.transaction() as session:
        badge = current_badge(session, slug)
    if request.method == "GET":
        return _render_form(form_values(badge), creating=False, version=badge.version)
    return _save(creating=False, slug=slug)


@bp.post("/catalog/<slug>/status")
@roles_required("admin")
def change_status(slug: str):
    status = request.form.get("status", "")
    with runtime().database.transaction() as session:
        set_status(session, get_record(session, slug), status, actor=g.user.email)
    flash(f"{slug} is now {status}." + (" No new starts; issued credentials stay valid." if status == "retired" else ""))
    return redirect(url_for("admin.catalog"))


def _save(*, creating: bool, slug: str | None = None):
    rt = runtime()
    values = {name: request.form.get(name, "") for name in (*SIMPLE_FIELDS, "structured")}
    values["image"] = None
    if not creating:
        values["slug"] = slug  # the slug of an existing class never changes (credentials point at it)
        with rt.database.transaction() as session:
            values["image"] = current_badge(session, slug).image
    values["generated_image"] = request.form.get("generated_image") == "on"
    base = request.form.get("base_version", "")
    base_version = int(base) if base.isascii() and base.isdigit() else None
    values["base_version"] = base
    alignments = request.form.getlist("alignments")
    values["alignments"] = alignments
    upload = request.files.get("image")
    image = upload.read(MAX_IMAGE_UPLOAD + 1) if upload and upload.filename else None
    try:
        if image is not None and len(image) > MAX_IMAGE_UPLOAD:
            raise DefinitionInvalid("form", [("image", "is larger than 2 MB")])
        definition = definition_from_form(values, alignments, image=None)
        with rt.database.transaction() as session:
            change = save_from_form(session, rt.catalog, definition, image=image,
                                    keep_image=request.form.get("generated_image") != "on",
                                    creating=creating, actor=g.user.email, base_version=base_version)
    except DefinitionInvalid as exc:
        return _render_form(values, creating=creating, version=base_version, problems=exc.problems), 400
    except IssuerError as exc:
        return _render_form(values, creating=creating, version=base_version,
                            problems=[("(form)", exc.message)]), status_for(exc)
    messages = {"created": "Created version 1.", "new_version": f"Saved as version {change.version}.",
                "status": f"Status changed to {change.detail}.", "unchanged": "No changes: nothing was saved."}
    flash(f"{change.slug}: {messages[change.action]}")
    return redirect(url_for("catalog.badge", slug=change.slug))


def _render_form(values: dict[str, Any], *, creating: bool, version: int | None = None,
                 problems: list[tuple[str, str]] | None = None):
    frameworks: dict[str, list] = {}
    for target in runtime().catalog.frameworks.values():
        frameworks.setdefault(target.framework, []).append(target)
    return render_template("admin/badge_form.html", values=values, creating=creating, version=version,
                           pathways=PATHWAYS, frameworks=frameworks, problems=problems or [],
                           field_errors=_field_errors(problems or []), structured_keys=STRUCTURED_KEYS)


def _field_errors(problems: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Problems by form field: top-level fields by name, nested content under 'structured'."""
    by_field: dict[str, list[str]] = {}
    for path, message in problems:
        head = path.split(".")[0]
        if head == "key_method":
            field = "structured" if ".components" in path else "key_method_summary"
        elif head in STRUCTURED_KEYS:
            field = "structured"
        else:
            field = head
        by_field.setdefault(field, []).append(f"{path}: {message}" if field == "structured" else message)
    return by_field


def _blank_values() -> dict[str, Any]:
    skeleton = """\
components:
  - name: First component of the key method
    description: What the teacher does.
research: []
resources: []
passing_level: Demonstrated
parts:
  - id: overview
    kind: overview
    title: Context
    instructions: Answer each question.
    questions:
      - Describe the class and the lesson objective.
    criteria:
      - id: context
        name: Context
        description: What the assessor looks for.
        levels:
          Demonstrated: The evidence fully meets the criterion.
          Progressing: The evidence partly meets the criterion.
          Not yet demonstrated: The evidence does not address the criterion.
"""
    return {"slug": "", "title": "", "description": "", "pathway": "team", "category": "", "competency": "",
            "key_method_summary": "", "estimated_hours": "15", "tags": "", "status": "active", "alignments": [],
            "image": None, "structured": skeleton}
