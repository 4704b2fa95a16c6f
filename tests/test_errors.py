"""One error model: every typed error has a kind, each kind one HTTP status (issuer/views/errors.py),
and the command line turns any of them into one line and exit code 1."""

from __future__ import annotations

import importlib
import pkgutil

import click
import pytest

import issuer
from issuer import errors
from issuer.cli.errors import failure
from issuer.views.errors import HTTP_STATUS, status_for

# Bases that are only ever raised through a subclass of a kind (kept so callers can catch the package's refusals).
ABSTRACT = {"issuer.licensure.batch_jobs.BatchJobError"}


def _all_errors() -> list[type[errors.IssuerError]]:
    for info in pkgutil.walk_packages(issuer.__path__, "issuer."):
        if ".migrations" not in info.name:
            importlib.import_module(info.name)
    found, todo = [], [errors.IssuerError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [c for c in found if c not in errors.KINDS and c is not errors.IssuerError]


def test_every_kind_has_one_http_status() -> None:
    assert set(HTTP_STATUS) == set(errors.KINDS)


@pytest.mark.parametrize("cls", _all_errors(), ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_error_has_a_kind_and_chooses_no_status(cls: type[errors.IssuerError]) -> None:
    name = f"{cls.__module__}.{cls.__qualname__}"
    assert "http_status" not in vars(cls) and not hasattr(cls, "with_status"), name
    assert name in ABSTRACT or errors.kind_of(cls.__new__(cls)) in errors.KINDS, name


def test_the_first_kind_in_the_mro_decides() -> None:
    from issuer.credentials.status_lists import StatusChangeInvalid, StatusChangeRefused
    from issuer.people.districts import CapReached, PeopleError
    from issuer.workflow.submissions import StaleForm, SubmissionError

    assert status_for(StaleForm("changed")) == 409 and isinstance(StaleForm("x"), SubmissionError)
    assert status_for(CapReached("full")) == 409 and status_for(PeopleError("bad")) == 400
    assert status_for(StatusChangeRefused("final")) == 409 and status_for(StatusChangeInvalid("no reason")) == 400


def test_the_cli_says_the_message_and_exits_1() -> None:
    refusal = failure(errors.Conflict("It was decided already.", code="already_decided"))
    assert isinstance(refusal, click.ClickException) and refusal.exit_code == 1
    assert refusal.format_message() == "It was decided already."
