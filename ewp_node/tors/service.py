"""Issuing transcripts as receiving HEI: each stored with its IMobility ToR CNR queued in one transaction.

A transcript is refused, and nothing of the batch written, for a mobility that is not one of our incoming
mobilities (unknown, outgoing, or received by a HEI this node does not cover).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from ewp_node.cnr import enqueue
from ewp_node.context import NodeContext
from ewp_node.mobilities import repository as mobility_repo
from ewp_node.mobilities.records import Direction
from ewp_node.tors import repository as repo
from ewp_node.tors.build import TORS_V2, build_conversion_table
from ewp_node.tors.issue import ELMO_V1_VERSION, ELMO_VERSION, isced_tables, sign_transcript, transcript_elmo
from ewp_node.tors.records import IssuedTranscript, TranscriptInput

#: The outbox kind of the CNR we send when a transcript is issued or corrected.
TOR_CNR = "imobility-tor-cnr"


class NotOurIncomingMobility(ValueError):
    """The transcript names a mobility that is not one of our incoming mobilities."""


def issue_transcripts(ctx: NodeContext, transcripts: Sequence[TranscriptInput], now: datetime | None = None, *,
                      notify: bool = True) -> list[IssuedTranscript]:
    """Build, sign and store every transcript, and queue one ToR CNR per mobility, all or nothing
    (``notify`` False: no CNR, for demonstration data the partner has not heard of either).

    :raises NotOurIncomingMobility: naming the first such mobility; nothing was written.
    """
    now = now or datetime.now(UTC)
    heis = {hei.id: hei for hei in ctx.settings.heis}
    issued = []
    with ctx.sessions.begin() as session:
        for transcript in transcripts:
            row = mobility_repo.find(session, transcript.sending_hei_id, transcript.omobility_id)
            if row is None or row.direction != Direction.INCOMING.value or row.receiving_hei_id not in heis:
                raise NotOurIncomingMobility(
                    f"mobility {transcript.omobility_id!r} of {transcript.sending_hei_id} is not one of our incoming "
                    "mobilities: no transcript was imported")
            mobility = mobility_repo.mobility_record(row)
            hei = heis[row.receiving_hei_id]
            elmo = transcript_elmo(transcript, mobility, hei, ctx.settings.base_url, now)
            v3, v2 = sign_transcript(elmo, ctx.server_key, hei.id, now, (ELMO_VERSION, ELMO_V1_VERSION))
            tables = isced_tables(transcript)
            record = IssuedTranscript(
                receiving_hei_id=hei.id, sending_hei_id=transcript.sending_hei_id,
                omobility_id=transcript.omobility_id, receiving_academic_year_id=mobility.receiving_academic_year_id,
                elmo=v3, conversion_table=build_conversion_table(tables), issued_at=now, modified_at=now,
                elmo_v1=v2, conversion_table_v1=build_conversion_table(tables, TORS_V2))
            repo.save_issued(session, record)
            if notify:
                enqueue(session, TOR_CNR, owner_hei=hei.id, partner_hei=transcript.sending_hei_id,
                        object_ids=[transcript.omobility_id], now=now)
            issued.append(record)
    return issued
