"""The Banqup invitation service."""
