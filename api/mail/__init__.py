"""Invitation emails: composed from templates, queued in an outbox, sent by a worker."""
