"""`microcred reissue CREDENTIAL_ID ...` and the work of `microcred keys revoke KEY_ID [--reissue]`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from keys import KeyStoreError

from ..errors import IssuerError
from ..runtime import runtime

ACTOR = "cli:administrator"


def _database_failed(exc: SQLAlchemyError) -> click.ClickException:
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    return click.ClickException(f"The database {runtime()._safe_url()} cannot be used: {reason}")


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
    from ..credentials.reissue import reissue
    from ..credentials.status_lists import find_credential

    rt = runtime()
    old_status = "revoked" if revoke_old else "suspended"
    try:
        rt.require_initialised()
        with rt.database.transaction() as session:
            old = find_credential(session, credential_id)
            new = reissue(session, old, reason=reason, old_status=old_status, actor=ACTOR, identity=rt.identity(),
                          policy=rt.catalog.policy, name=name, to_current_version=current_version)
    except (IssuerError, KeyStoreError) as exc:
        raise click.ClickException(exc.message) from None
    except SQLAlchemyError as exc:
        raise _database_failed(exc) from None
    click.echo(f"Re-issued {old.credential_id} as {new.credential_id} for {new.recipient_name} "
               f"({new.achievement_slug} v{new.achievement_version}); the old one is {old_status}.")
    click.echo(f"Its page: {rt.settings.public_url}/credentials/{new.public_id} (the teacher was sent the link; "
               "`microcred mail send` delivers it).")


def revoke_key(key_id: str, reason: str, reissue: bool) -> None:
    """Mark the key compromised (or, with `reissue`, go on after an earlier revocation), re-sign the
    status lists, list what it signed and, with `reissue`, re-issue every active one."""
    from ..audit import record_event
    from ..credentials.compromise import resign_status_lists, signed_by

    rt = runtime()
    try:
        identity = rt.identity()
        store = identity.store
        known = store.get(key_id)
        again = reissue and known.status == "revoked"
        key = known if again else store.revoke(key_id, reason)
        with rt.database.transaction() as session:
            signed = signed_by(session, key_id)
            if not again:
                record_event(session, actor=ACTOR, action="key.revoked", subject=key_id,
                             detail={"reason": reason, "credentials_affected": len(signed)})
            resign_status_lists(session, identity, key)  # again too: after a failure here, nothing is left out
        active = store.active().key_id
    except (KeyStoreError, IssuerError) as exc:
        raise click.ClickException(exc.message) from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        raise _database_failed(exc) from None
    if again:
        click.echo(f"{key.key_id} was already revoked ({key.revocation_reason}); re-issuing what is left.")
    else:
        click.echo(f"Revoked {key.key_id}: {reason}. Credentials it signed: {len(signed)} (they no longer verify).")
    click.echo(f"Active key now: {active}")
    for item in signed:
        click.echo(f"  {item.credential_id}\t{item.recipient}\t{item.badge}\t{item.status}")
    if not reissue:
        if any(item.status == "active" for item in signed):
            click.echo(f"Re-issue them under the new key: microcred keys revoke {key_id} --reissue")
        return
    _reissue_all(key.key_id, f"signing key {key.key_id} compromised: {key.revocation_reason or reason}", len(signed))


def _reissue_all(key_id: str, reason: str, total: int) -> None:
    from ..credentials.compromise import reissue_signed_by

    rt = runtime()
    counts = {"reissued": 0, "skipped": 0, "failed": 0}
    outcomes = reissue_signed_by(rt.database, key_id, reason=reason, actor=ACTOR, identity=rt.identity(),
                                 policy=rt.catalog.policy)
    for n, outcome in enumerate(outcomes, start=1):
        counts[outcome.action] += 1
        item = outcome.credential
        if outcome.action == "reissued":
            click.echo(f"[{n}/{total}] re-issued {item.credential_id} -> {outcome.detail} "
                       f"({item.recipient}, {item.badge})")
        else:
            click.echo(f"[{n}/{total}] {outcome.action} {item.credential_id}: {outcome.detail}")
    click.echo(f"Re-issued {counts['reissued']}, skipped {counts['skipped']}, failed {counts['failed']}."
               + (" Each teacher was sent the new link (`microcred mail send` delivers it)." if counts["reissued"]
                  else ""))
    if counts["failed"]:
        raise click.ClickException(f"{counts['failed']} credential(s) were not re-issued: fix the cause and run "
                                   f"`microcred keys revoke {key_id} --reissue` again (what was done is skipped).")
