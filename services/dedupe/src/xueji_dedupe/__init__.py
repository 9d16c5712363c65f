"""Dedupe service: one person, one number — duplicate and identity checks."""
