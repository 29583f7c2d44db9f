"""One module per EWP API. Each module declares ``API`` (an ``ewp_node.api.ApiSpec``) and binds its views.

``ENABLED`` lists the modules the node serves and advertises, in manifest order.
"""

from __future__ import annotations

from handlers import (
    course_replication,
    courses,
    echo,
    factsheet,
    file,
    iia_approval_cnr,
    iia_cnr,
    iias,
    iias_approval,
    imobilities,
    imobility_cnr,
    imobility_tor_cnr,
    imobility_tor_stats,
    imobility_tors,
    imobility_tors_v2,
    institutions,
    omobilities,
    omobility_cnr,
    omobility_la_cnr,
    omobility_las,
    omobility_stats,
    ounits,
)

ENABLED = (echo, institutions, ounits, courses, course_replication, factsheet, file, iias, iias_approval, iia_cnr,
           iia_approval_cnr, omobilities, omobility_las, imobilities, omobility_cnr, omobility_la_cnr, imobility_cnr,
           omobility_stats, imobility_tors, imobility_tors_v2, imobility_tor_cnr, imobility_tor_stats)
