"""Notify's consumers, one module per consumed topic."""
