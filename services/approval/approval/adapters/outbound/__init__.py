"""Adapters of the approval service."""
