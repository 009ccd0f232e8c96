"""Thin HTTP controllers over the services."""
