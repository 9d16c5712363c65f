"""Transfer HTTP routes: thin — validate, take the operator from the token, hand to the service, answer."""

from xueji_transfer.api import admin, cases, exceptions, steps

routers = (cases.router, steps.router, exceptions.router, admin.router)
