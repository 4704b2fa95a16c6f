"""`microcred keys list|generate|rotate|revoke KEY_ID [--reissue]`: the issuer's signing keys.

Revoking a compromised key (docs/key-compromise.md) re-signs the status lists, lists what the key
signed and, with --reissue, re-issues every active credential under the new key.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from keys import KeyStore

from ..audit import record_event
from ..credentials.compromise import reissue_signed_by, resign_status_lists, signed_by
from ..runtime import runtime

ACTOR = "cli:administrator"


@click.group("keys")
def keys_group() -> None:
    """The issuer's signing keys."""


def _store() -> KeyStore:
    return runtime().identity().store


@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    """Every key: id, status, created, public key."""
    for key in _store().list():
        extra = f"  revoked: {key.revocation_reason}" if key.status == "revoked" else ""
        click.echo(f"{key.key_id}\t{key.status}\t{key.created:%Y-%m-%dT%H:%M:%SZ}\t{key.public_key_multibase}{extra}")


@keys_group.command("generate")
@with_appcontext
def keys_generate() -> None:
    """Create the first signing key (use `rotate` to replace an active one)."""
    key = _store().generate()
    click.echo(f"Generated {key.key_id} (active)")


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """A new key signs from now on; the old one is retired and still verifies what it signed."""
    new, retired = _store().rotate()
    click.echo(f"Active: {new.key_id}" + (f"; retired: {retired.key_id}" if retired else ""))
    if not runtime().settings.base_url:
        click.echo("Note: without MICROCRED_BASE_URL the issuer is a did:key, so the new key is a new issuer identifier.", err=True)


@keys_group.command("revoke")
@click.argument("key_id")
@click.option("--reason", default="compromised", show_default=True, help="Why the key is revoked.")
@click.option("--reissue", is_flag=True, help="Then re-issue every active credential it signed under the new key "
                                              "(rerun it to finish after a failure: what was done is skipped).")
@with_appcontext
def keys_revoke(key_id: str, reason: str, reissue: bool) -> None:
    """Revoke a compromised key: it leaves the DID document; what it signed stops verifying and is listed
    (docs/key-compromise.md)."""
    revoke_key(key_id, reason, reissue)


def revoke_key(key_id: str, reason: str, reissue: bool) -> None:
    """Mark the key compromised (or, with `reissue`, go on after an earlier revocation), re-sign the
    status lists, list what it signed and, with `reissue`, re-issue every active one."""
    rt = runtime()
    identity = rt.identity()
    store = identity.store
    known = store.get(key_id)
    again = reissue and known.status == "revoked"
    try:
        key = known if again else store.revoke(key_id, reason)
    except ValueError as exc:  # the key store refuses an empty reason
        raise click.ClickException(str(exc)) from None
    with rt.database.transaction() as session:
        signed = signed_by(session, key_id)
        if not again:
            record_event(session, actor=ACTOR, action="key.revoked", subject=key_id,
                         detail={"reason": reason, "credentials_affected": len(signed)})
        resign_status_lists(session, identity, key)  # again too: after a failure here, nothing is left out
    active = store.active().key_id
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
