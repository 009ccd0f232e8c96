"""Signed webhooks (Standard Webhooks) for partners' own systems: secrets and signatures,
safe targets, and the delivery worker. The endpoints' use cases are in
`api.services.webhooks`."""
