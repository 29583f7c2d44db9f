"""``/office/``: the international office's console. One blueprint; each area adds its pages (``install``).

Every page needs a login (server-side session, cookie ``ewp_office``), every POST a CSRF token, every
action the ``officer`` role; answers are HTML, never cached, never framed.
"""

from __future__ import annotations

from flask import Blueprint

from ewp_node.context import NodeContext
from ewp_node.web.office import (
    agreements,
    auth,
    exchanges,
    home,
    indicators,
    mobilities,
    notifications,
    partners,
    student,
)


def office_blueprint(ctx: NodeContext) -> Blueprint:
    blueprint = Blueprint("office", __name__, url_prefix="/office", template_folder="templates",
                          static_folder="static")
    for area in (auth, home, exchanges, notifications, agreements, mobilities, partners, indicators, student):
        area.install(blueprint, ctx)
    return blueprint
