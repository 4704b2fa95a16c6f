"""`microcred issue`, `revoke|suspend|reinstate CREDENTIAL_ID --reason TEXT` and `reissue CREDENTIAL_ID ...`.

The id is the credential's urn:uuid or its public id (the last part of its page's address). A status
change re-signs the status list in the same transaction, the teacher is told by mail, the audit log
keeps the reason. A refused change (unknown credential, revoked already, no reason) is one line and
exit 1, and nothing is changed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from ..catalog.versions import current_badge
from ..credentials.expiry import valid_until_for
from ..credentials.issuance import issue_credential
from ..credentials.reissue import reissue
from ..credentials.status_lists import change_status, find_credential
from ..errors import Conflict
from ..runtime import runtime

ACTOR = "cli:administrator"
_DONE = {"revoked": "Revoked", "suspended": "Suspended", "active": "Reinstated"}


@click.command("issue")
@click.option("--achievement", "slug", required=True, help="Slug of the badge class (see `catalog list`).")
@click.option("--recipient-email", required=True)
@click.option("--recipient-name", required=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write the credential to this file.")
@with_appcontext
def issue_command(slug: str, recipient_email: str, recipient_name: str, out: str | None) -> None:
    """Award a micro-credential directly (administrator): signs, records, prints the credential."""
    rt = runtime()
    now = datetime.now(UTC).replace(microsecond=0)
    rt.require_initialised()
    try:
        with rt.database.transaction() as session:
            badge = current_badge(session, slug)
            if badge.status != "active":
                raise Conflict(f"{slug!r} is retired: it can no longer be earned.", code="badge_class_retired")
            row = issue_credential(session, badge, identity=rt.identity(), policy=rt.catalog.policy,
                                   recipient_email=recipient_email, recipient_name=recipient_name,
                                   actor=ACTOR, now=now, valid_until=valid_until_for(badge, now))
            if out:
                # Inside the transaction: if the file cannot be written, nothing is stored.
                with open(out, "w", encoding="utf-8") as fh:
                    fh.write(row.document + "\n")
    except OSError as exc:
        raise click.ClickException(f"Cannot write {out}: {exc.strerror}. Nothing was issued.") from None
    if out:
        click.echo(f"Issued {row.credential_id} to {row.recipient_name}; written to {out}", err=True)
    else:
        click.echo(row.document)


def _change(identifier: str, new_status: str, reason: str) -> None:
    """Apply one status change in one transaction and say what happened."""
    rt = runtime()
    rt.require_initialised()
    with rt.database.transaction() as session:
        credential = find_credential(session, identifier.strip())
        change_status(session, credential, new_status, reason=reason, actor=ACTOR, identity=rt.identity())
        done = (credential.credential_id, credential.recipient_name, credential.recipient_email)
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


@click.command("reissue")
@click.argument("credential_id")
@click.option("--reason", required=True, help="Why (kept in the audit log and sent to the teacher).")
@click.option("--revoke-old/--suspend-old", "revoke_old", default=True, show_default=True,
              help="What happens to the credential being replaced.")
@click.option("--name", default=None, help="The recipient's new name (also their account's display name).")
@click.option("--current-version", is_flag=True,
              help="Issue under the badge class's current version (default: the version it was earned under).")
@with_appcontext
def reissue_command(credential_id: str, reason: str, revoke_old: bool, name: str | None,
                    current_version: bool) -> None:
    """Replace a credential (a changed name, a new key, a corrected version) with a new one."""
    rt = runtime()
    old_status = "revoked" if revoke_old else "suspended"
    rt.require_initialised()
    with rt.database.transaction() as session:
        old = find_credential(session, credential_id)
        new = reissue(session, old, reason=reason, old_status=old_status, actor=ACTOR, identity=rt.identity(),
                      policy=rt.catalog.policy, name=name, to_current_version=current_version)
    click.echo(f"Re-issued {old.credential_id} as {new.credential_id} for {new.recipient_name} "
               f"({new.achievement_slug} v{new.achievement_version}); the old one is {old_status}.")
    click.echo(f"Its page: {rt.settings.public_url}/credentials/{new.public_id} (the teacher was sent the link; "
               "`microcred mail send` delivers it).")
