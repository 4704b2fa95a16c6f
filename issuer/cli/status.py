"""`microcred revoke|suspend|reinstate CREDENTIAL_ID --reason TEXT`: change a credential's published status.

The id is the credential's urn:uuid or its public id (the last part of its page's address). The
status list is re-signed in the same transaction, the teacher is told by mail, the audit log keeps
the reason. A refused change (unknown credential, revoked already, no reason) is one line and exit 1,
and nothing is changed.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from keys import KeyStoreError

from ..errors import IssuerError
from ..runtime import runtime
from ..credentials.status_lists import change_status, find_credential

ACTOR = "cli:administrator"
_DONE = {"revoked": "Revoked", "suspended": "Suspended", "active": "Reinstated"}


def _change(identifier: str, new_status: str, reason: str) -> None:
    """Apply one status change in one transaction and say what happened; ClickException (exit 1) otherwise."""
    rt = runtime()
    try:
        rt.require_initialised()
        with rt.database.transaction() as session:
            credential = find_credential(session, identifier.strip())
            change_status(session, credential, new_status, reason=reason, actor=ACTOR, identity=rt.identity())
            done = (credential.credential_id, credential.recipient_name, credential.recipient_email)
    except (IssuerError, KeyStoreError) as exc:
        raise click.ClickException(exc.message) from None
    except SQLAlchemyError as exc:
        reason_line = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise click.ClickException(f"The database {rt._safe_url()} cannot be used: {reason_line}") from None
    click.echo(f"{_DONE[new_status]} {done[0]} ({done[1]}). The status list is re-signed; "
               f"a message to {done[2]} is in the outbox.")


def _status_command(name: str, new_status: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("credential_id")
    @click.option("--reason", required=True, help="Why (kept in the audit log and sent to the teacher).")
    @with_appcontext
    def command(credential_id: str, reason: str) -> None:
        _change(credential_id, new_status, reason)

    return command


revoke_command = _status_command(
    "revoke", "revoked", "Revoke a credential for good (its urn:uuid id or public id); verifiers see it at once.")
suspend_command = _status_command(
    "suspend", "suspended", "Suspend a credential until it is reinstated (not a revoked one).")
reinstate_command = _status_command(
    "reinstate", "active", "Lift a suspension: the credential is valid again.")
