"""Registry HTTP routes: thin — validate, take the operator from the token, hand to the service, answer."""

from xueji_registry.api import (
    audit,
    bulk,
    changes,
    graduation,
    numbers,
    progression,
    rosters,
    schools,
    search,
    students,
    subscribers,
)

# In the order the routes were mounted before they moved here (the OpenAPI document lists them in this order).
routers = (
    students.router,
    bulk.router,
    changes.router,
    progression.router,
    audit.router,
    numbers.router,
    rosters.router,
    graduation.router,
    schools.router,
    search.router,
    subscribers.router,
)
