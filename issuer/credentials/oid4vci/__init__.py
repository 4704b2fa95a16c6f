"""OpenID for Verifiable Credential Issuance 1.0: a teacher's wallet collects their credential.

Pre-authorized code flow, format ldp_vc, one credential configuration (OpenBadgeCredential_ldp_vc):
offers.py (offers, PIN, token endpoint), nonces.py (signed c_nonce values), proofs.py (the `jwt` key
proof), delivery.py (credential endpoint), metadata.py (issuer and authorization server metadata),
errors.py (OAuth errors carrying the protocol's error codes). Views: issuer/views/oid4vci.py.
"""

from .delivery import Delivery, deliver_credential
from .errors import (
                     CredentialRequestDenied,
                     InvalidCredentialRequest,
                     InvalidGrant,
                     InvalidNonce,
                     InvalidProof,
                     InvalidRequest,
                     InvalidToken,
                     MissingToken,
                     OAuthError,
                     UnknownCredentialConfiguration,
                     UnknownCredentialIdentifier,
                     UnsupportedGrantType,
)
from .metadata import CONFIGURATION_ID, PRE_AUTHORIZED_GRANT, authorization_server_metadata, credential_issuer_metadata
from .nonces import issue_nonce
from .offers import (
                     MAX_TX_CODE_FAILURES,
                     OFFER_LIFETIME,
                     TOKEN_LIFETIME,
                     AccessToken,
                     NewOffer,
                     create_offer,
                     exchange_code,
                     offerable_credential,
                     qr_svg,
)
from .proofs import KeyProof, verify_key_proof

__all__ = [
                     "CONFIGURATION_ID",
                     "MAX_TX_CODE_FAILURES",
                     "OFFER_LIFETIME",
                     "PRE_AUTHORIZED_GRANT",
                     "TOKEN_LIFETIME",
                     "AccessToken",
                     "CredentialRequestDenied",
                     "Delivery",
                     "InvalidCredentialRequest",
                     "InvalidGrant",
                     "InvalidNonce",
                     "InvalidProof",
                     "InvalidRequest",
                     "InvalidToken",
                     "KeyProof",
                     "MissingToken",
                     "NewOffer",
                     "OAuthError",
                     "UnknownCredentialConfiguration",
                     "UnknownCredentialIdentifier",
                     "UnsupportedGrantType",
                     "authorization_server_metadata",
                     "create_offer",
                     "credential_issuer_metadata",
                     "deliver_credential",
                     "exchange_code",
                     "issue_nonce",
                     "offerable_credential",
                     "qr_svg",
                     "verify_key_proof",
]
