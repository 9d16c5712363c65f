"""Payload models, one module per topic family."""
