"""Dedupe HTTP routes: thin — take the operator from the token, hand to the checks or the review cases, answer."""

from xueji_dedupe.api import checks, review

# In the order the routes were mounted before they moved here (the OpenAPI document lists them in this order).
routers = (checks.router, review.router)
