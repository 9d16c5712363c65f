"""Transfer HTTP routes: thin — validate, take the operator from the token, hand to the service, answer."""

from xueji_transfer.api import admin, cases, steps

routers = (cases.router, steps.router, admin.router)
