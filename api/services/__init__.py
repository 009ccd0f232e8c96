"""The rules of the service: one transaction per use case, no HTTP in here."""
