"""Registry service: owner of every student status record in the province."""
