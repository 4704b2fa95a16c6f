"""What a wallet reads first: the Credential Issuer and Authorization Server metadata.

The Credential Issuer metadata (OID4VCI 1.0 §12.2) and the OAuth 2.0 Authorization Server metadata
(RFC 8414, OID4VCI §12.3). This issuer is its own authorization server and supports only the
pre-authorized code grant, anonymously (no client authentication).
"""

from __future__ import annotations

from typing import Any

from verifier.document_loader import OB_V3, VC_V2

from .proofs import ALGORITHMS

CONFIGURATION_ID = "OpenBadgeCredential_ldp_vc"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
TOKEN_PATH, NONCE_PATH, CREDENTIAL_PATH = "/oid4vci/token", "/oid4vci/nonce", "/oid4vci/credential"
CREDENTIAL_DEFINITION = {"@context": [VC_V2, OB_V3], "type": ["VerifiableCredential", "OpenBadgeCredential"]}


def credential_issuer_metadata(issuer: str, *, issuer_name: str) -> dict[str, Any]:
    """The document served at /.well-known/openid-credential-issuer; `issuer` is the public URL."""
    logo = {"uri": f"{issuer}/static/issuer-seal.png", "alt_text": f"Seal of {issuer_name}"}
    return {
        "credential_issuer": issuer,
        "credential_endpoint": issuer + CREDENTIAL_PATH,
        "nonce_endpoint": issuer + NONCE_PATH,
        "display": [{"name": issuer_name, "locale": "en-US", "logo": logo}],
        "credential_configurations_supported": {
            CONFIGURATION_ID: {
                "format": "ldp_vc",
                "credential_definition": CREDENTIAL_DEFINITION,
                # Appendix A.1.2.2: proof suite identifiers. Ours are DataIntegrityProof with this cryptosuite.
                "credential_signing_alg_values_supported": ["eddsa-rdfc-2022"],
                "cryptographic_binding_methods_supported": ["did:key", "jwk"],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(ALGORITHMS)}},
                "credential_metadata": {"display": [{
                    "name": "Teacher micro-credential", "locale": "en-US", "logo": logo,
                    "description": "An Open Badges 3.0 micro-credential earned by a teacher, signed by "
                                   f"{issuer_name}."}]},
            },
        },
    }


def authorization_server_metadata(issuer: str) -> dict[str, Any]:
    """The document served at /.well-known/oauth-authorization-server (RFC 8414 §2)."""
    return {
        "issuer": issuer,
        "token_endpoint": issuer + TOKEN_PATH,
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }
