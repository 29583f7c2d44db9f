"""Copy a partner's course catalogue into our store (client side of Simple Course Replication v1 and
Courses v0.7.1): the LOS ids first, then Courses ``get`` in batches of the partner's ``max-los-ids``.

Partner records go through the same validation as an import; an invalid LOS is skipped and reported, never
stored. A full run (no ``modified_since``) also removes the partner's LOSes it no longer lists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ewp_node.publish import repository as repo
from ewp_node.publish.from_xml import read_los
from ewp_node.publish.records import Problem, Reader, Record, _Skip, read_course
from ewp_node.publish.repository import COURSE, Change
from ewp_node.xml.ns import COURSE_REPLICATION, COURSES, q

if TYPE_CHECKING:
    from ewp_node.client import ClientResponse, EwpClient
    from ewp_node.context import NodeContext


class ReplicationFailed(RuntimeError):
    """The partner's answer cannot be used (status, missing or unexpected document)."""


@dataclass
class ReplicationReport:
    partner: str
    listed: int = 0
    counts: Counter[Change] = field(default_factory=Counter)
    skipped: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        parts = ", ".join(f"{change.value}: {n}" for change, n in sorted(self.counts.items(), key=lambda i: i[0].value))
        return (f"{self.partner}: {self.listed} LOS listed; {parts or 'nothing stored'}"
                + (f"; {len(self.skipped)} invalid LOS skipped" if self.skipped else ""))


def _document(response: ClientResponse, root_tag: str, what: str) -> list:  # type: ignore[type-arg]
    if response.status != 200 or response.root is None or response.root.tag != root_tag:
        raise ReplicationFailed(f"{what} answered HTTP {response.status} without a {root_tag.split('}')[1]} "
                                f"document: {response.body[:300]!r}")
    return list(response.root)


def replicate_catalogue(ctx: NodeContext, partner: str, *, client: EwpClient | None = None,
                        modified_since: datetime | None = None,
                        progress: Callable[[int, int], None] | None = None) -> ReplicationReport:
    """Replicate ``partner``'s published LOSes, all in one transaction once every answer is read and checked.

    :raises ReplicationFailed: an unusable or ambiguous answer (nothing is stored then);
        ``PartnerUnavailable`` (from the client): no such API in the registry, or transport failure.
    """
    from ewp_node.client import EwpClient

    if partner in ctx.settings.hei_ids:
        raise ReplicationFailed(f"{partner} is covered by this node: its catalogue is already here")
    client = client or EwpClient(ctx)
    params = [("hei_id", partner)] + ([("modified_since", modified_since.isoformat())] if modified_since else [])
    listing = client.call(partner, "simple-course-replication", params=params)
    los_ids = [el.text or "" for el in _document(listing, q(COURSE_REPLICATION, "course-replication-response"),
                                                   "Simple Course Replication")
               if el.tag == q(COURSE_REPLICATION, "los-id")]
    los_ids = list(dict.fromkeys(los_ids))  # a repeated id in the listing is harmless: each LOS is asked once
    report = ReplicationReport(partner, listed=len(los_ids))
    batch_size = max(1, client.find(partner, "courses").limits.get("max-los-ids", 1))
    records: list[Record] = []
    for start in range(0, len(los_ids), batch_size):
        batch = los_ids[start:start + batch_size]
        answer = client.call(partner, "courses", params=[("hei_id", partner)] + [("los_id", i) for i in batch])
        elements = _document(answer, q(COURSES, "courses-response"), "Courses")
        records += _checked_batch(batch, [read_los(el) for el in elements], report)
        if progress:
            progress(min(start + batch_size, len(los_ids)), len(los_ids))
    _store(ctx, partner, records, None if modified_since else set(los_ids), report)
    return report


def _checked_batch(asked: list[str], raws: list[Record], report: ReplicationReport) -> list[Record]:
    """The valid records of one Courses answer; invalid ones are skipped and reported.

    :raises ReplicationFailed: the answer repeats a LOS or holds one that was not asked for (which copy
        would be right is unknown).
    """
    returned = Counter(str(raw.get("los_id") or "") for raw in raws)
    returned.pop("", None)  # no id: reported as invalid below
    repeated = sorted(los_id for los_id, n in returned.items() if n > 1)
    if repeated:
        raise ReplicationFailed(f"the Courses answer repeats LOS {', '.join(repeated[:5])}: nothing stored")
    unasked = sorted(set(returned) - set(asked))
    if unasked:
        raise ReplicationFailed(f"the Courses answer holds LOS {', '.join(unasked[:5])} that were not asked for: "
                                "nothing stored")
    reader = Reader()
    records = []
    for index, raw in enumerate(raws):
        with reader.for_record(f"learningOpportunitySpecification {raw.get('los_id') or index}"):
            try:
                records.append(read_course(reader, raw))
            except _Skip:
                continue
    report.skipped.extend(reader.problems)
    return records


def _store(ctx: NodeContext, partner: str, records: list[Record], listed: set[str] | None,
           report: ReplicationReport) -> None:
    """Upsert ``records`` and, after a full listing (``listed``), delete the partner's LOSes it no longer has."""
    now = datetime.now(UTC)
    with ctx.sessions.begin() as session:
        current = repo.existing(session, COURSE, partner)
        for record in records:
            report.counts[repo.upsert(session, COURSE, partner, record, now, current.get(record["los_id"]))] += 1
        if listed is not None:
            for los_id, row in current.items():
                if los_id not in listed:
                    report.counts[repo.delete(session, row)] += 1
