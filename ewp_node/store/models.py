"""Imports every model module so that ``metadata`` knows every table (Alembic and tests use this)."""

from __future__ import annotations

from ewp_node.cnr import outbox as cnr_outbox  # noqa: F401
from ewp_node.iias import models as iia_models  # noqa: F401
from ewp_node.mobilities import models as mobility_models  # noqa: F401
from ewp_node.office import models as office_models  # noqa: F401
from ewp_node.publish import models as publish_models  # noqa: F401
from ewp_node.store import audit, captures, replay  # noqa: F401
from ewp_node.tors import models as tor_models  # noqa: F401
