"""The licensure office: verification service, renewal reports, batches, trusted issuers."""
