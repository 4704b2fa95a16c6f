"""Earned credentials: issuance, evidence, status lists, sharing, expiry, re-issue, wallets."""
