"""The issuer's identity: its DID, its keys (from keys/), its DID document and its Profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keys import KeyStore, load_passphrase
from keys.did import did_document, issuer_did, verification_method_id
from keys.signer import Signer

from .config import Settings
from .errors import ConfigError


@dataclass
class IssuerIdentity:
    """Binds the settings to the key store; cheap to build per request or command."""

    settings: Settings
    store: KeyStore

    @classmethod
    def open(cls, settings: Settings, *, create_passphrase: bool = False) -> IssuerIdentity:
        passphrase = load_passphrase(settings.instance_dir, settings.environ, create=create_passphrase)
        return cls(settings, KeyStore(settings.keys_dir, passphrase))

    @classmethod
    def public(cls, settings: Settings) -> IssuerIdentity:
        """Public key data only (verifying needs no secret); signing raises PassphraseError."""
        return cls(settings, KeyStore.public(settings.keys_dir))

    @property
    def did(self) -> str:
        try:
            return issuer_did(self.settings.base_url, self.store.active())
        except ValueError as exc:
            raise ConfigError(f"MICROCRED_BASE_URL {self.settings.base_url!r} is not usable: {exc}") from None

    def signer(self) -> tuple[Signer, str]:
        """The active key's signer and its verification method id."""
        active = self.store.active()
        return self.store.signer(active.key_id), verification_method_id(self.did, active)

    def did_document(self) -> dict[str, Any]:
        """did:web document: active and retired keys, never revoked ones."""
        return did_document(self.did, self.store.verification_keys())

    def documents(self, controller: str) -> dict[str, Any] | None:
        """Our own controller documents for the verifier (no network).

        Our did:web document; and for a did:key of one of our revoked keys, a document
        listing no key, so what that key signed stops verifying here too.
        """
        if self.settings.base_url and controller == self.did:
            return self.did_document()
        if controller.startswith("did:key:"):
            revoked = {k.public_key_multibase for k in self.store.list() if k.status == "revoked"}
            if controller[len("did:key:"):] in revoked:
                return {"id": controller, "verificationMethod": [], "assertionMethod": []}
        return None

    def profile(self) -> dict[str, Any]:
        """The issuer Profile embedded in credentials."""
        base = self.settings.public_url
        return {
            "id": self.did,
            "type": ["Profile"],
            "name": self.settings.issuer_name,
            "url": self.settings.issuer_url or base,
            "email": self.settings.issuer_email,
            "image": {"id": f"{base}/static/issuer-seal.png", "type": "Image", "caption": self.settings.issuer_name},
        }
