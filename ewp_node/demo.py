"""``ewp-node demo``: a narrated, scripted exchange between two sandbox nodes, with a summary.

Each step is one function returning whether it held; the demo exits 0 only when every step held.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ewp_node.client import EwpClient
from ewp_node.cnr.outbox import make_due_now
from ewp_node.config import load_settings
from ewp_node.context import NodeContext, build_context
from ewp_node.sandbox import Sandbox, SandboxNode
from ewp_node.xml import ns

#: Upper bound of each wait for the other node (seconds): CNR, fetch and answer take a few seconds.
WAIT_SECONDS = 60.0


def say(text: str) -> None:
    print(text, flush=True)


@dataclass
class Step:
    title: str
    held: bool
    detail: str


def node_context(node: SandboxNode) -> NodeContext:
    """The services of ``node``'s home, with the registry catalogue as the sandbox publishes it now."""
    ctx = build_context(load_settings(node.home))
    ctx.registry.refresh(force=True)
    return ctx


def wait_for(contexts: Iterable[NodeContext], condition: Callable[[], bool]) -> bool:
    """Wait (at most :data:`WAIT_SECONDS`) until ``condition`` holds while the nodes' outbox workers carry the
    CNRs and follow-up fetches; meanwhile bring the nodes' pending outbox rows forward, as an operator's
    ``ewp-node cnr HOME send-now`` would. :returns: whether it held."""
    contexts = tuple(contexts)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return True
        for ctx in contexts:
            with ctx.sessions.begin() as session:
                make_due_now(session)
        time.sleep(0.5)
    return condition()


def play_until_failure(steps: Iterable[Callable[[], Step]], narrate: Callable[[Step], None]) -> list[Step]:
    """Run ``steps`` in order, narrating each as it ends; stop at the first that does not hold."""
    outcomes: list[Step] = []
    for step in steps:
        outcome = step()
        narrate(outcome)
        outcomes.append(outcome)
        if not outcome.held:
            break
    return outcomes


def echo_step(caller: SandboxNode, callee: SandboxNode) -> Step:
    """``caller`` finds ``callee``'s Echo API in the registry and calls it with a signed request."""
    ctx = node_context(caller)
    try:
        message = f"hello from {caller.hei_id}"
        response = EwpClient(ctx).call(callee.hei_id, "echo", params=[("echo", message)])
        root = response.root
        heis = [e.text for e in root.iter(f"{{{ns.ECHO}}}hei-id")] if root is not None else []
        echoes = [e.text for e in root.iter(f"{{{ns.ECHO}}}echo")] if root is not None else []
        held = response.status == 200 and response.signature_verified and heis == [caller.hei_id] \
            and echoes == [message]
        detail = (f"HTTP {response.status}; {callee.hei_id} saw the caller as {heis}, echoed {echoes}; "
                  f"response signature {'verified' if response.signature_verified else 'NOT verified'}")
    finally:
        ctx.audit.close()
    return Step(f"{caller.hei_id} -> {callee.hei_id}: signed Echo", held, detail)


def institution_step(caller: SandboxNode, callee: SandboxNode) -> Step:
    """``caller`` reads who ``callee`` is: Institutions and Factsheet APIs (public data, signed answers)."""
    ctx = node_context(caller)
    try:
        client = EwpClient(ctx)
        params = [("hei_id", callee.hei_id)]
        institution = client.call(callee.hei_id, "institutions", params=params)
        factsheet = client.call(callee.hei_id, "factsheet", params=params)
    finally:
        ctx.audit.close()
    names = [e.text for e in institution.root.iter(f"{{{ns.INSTITUTIONS}}}name")] if institution.root is not None \
        else []
    deadlines = [e.text for e in factsheet.root.iter(f"{{{ns.FACTSHEET}}}autumn-term")] \
        if factsheet.root is not None else []
    held = (institution.status == factsheet.status == 200 and institution.signature_verified
            and factsheet.signature_verified and bool(names))
    return Step(f"{caller.hei_id} -> {callee.hei_id}: Institutions + Factsheet", held,
                f"names {names}; autumn-term deadlines (nominations, applications) {deadlines}")


def replicate_step(caller: SandboxNode, callee: SandboxNode) -> Step | None:
    """``caller`` copies ``callee``'s course catalogue (Simple Course Replication + Courses)."""
    try:
        from ewp_node.publish.replicate import replicate_catalogue
    except ModuleNotFoundError:
        return None
    ctx = node_context(caller)
    try:
        report = replicate_catalogue(ctx, callee.hei_id)
    finally:
        ctx.audit.close()
    stored = sum(report.counts.values())
    return Step(f"{caller.hei_id} <- {callee.hei_id}: course catalogue replication (Simple Course Replication "
                f"+ Courses)", report.listed > 0 and stored == report.listed and not report.skipped,
                report.summary())


def transcript_step(sending: SandboxNode, receiving: SandboxNode, wait: float = 30.0) -> Step:
    """``receiving`` issues a student's transcript from SIS grades; its ToR CNR reaches ``sending``, whose worker
    fetches it, verifies the ELMO signature against ``receiving``'s server key in the registry, converts the
    grades, matches them against the learning agreement and writes the recognition record for its SIS."""
    from ewp_node.tors import repository
    from ewp_node.tors.demo import stage_exchange
    from ewp_node.tors.sis import record_path

    title = f"{receiving.hei_id} -> {sending.hei_id}: transcript of records (ELMO), CNR, conversion, SIS record"
    ours, theirs = node_context(sending), node_context(receiving)
    try:
        mobility = stage_exchange(ours, theirs)
        deadline, found = time.monotonic() + wait, None
        while found is None and time.monotonic() < deadline:
            with ours.sessions() as session:
                found = next((r for r in repository.received(session, {sending.hei_id})
                              if r.omobility_id == mobility.omobility_id), None)
            if found is None:
                time.sleep(0.5)
    finally:
        ours.audit.close()
        theirs.audit.close()
    if found is None:
        return Step(title, False, f"no transcript arrived within {wait:.0f} s (see 'ewp-node cnr HOME list')")
    if found.recognition is None:
        return Step(title, False, f"the transcript was rejected: {found.reason}")
    results = found.recognition.results
    grades = ", ".join(f"{r.code} {r.host_grade} -> {r.home_grade or '?'}" for r in results)
    planned = [r.code for r in results if r.planned_as]
    record = record_path(sending.home, found.id)
    return Step(title, record.exists() and all(r.home_grade for r in results),
                f"{mobility.student.given_names} {mobility.student.family_name}: signature verified with "
                f"{receiving.hei_id}'s registry key; grades {grades}; planned in the LA: {planned}, missing: "
                f"{list(found.recognition.missing)}; SIS record {record.name}")


def _narrate(step: Step) -> None:
    say(f"\n-- {step.title}\n   {step.detail}\n   {'OK' if step.held else 'FAILED'}")


def run_demo(directory: Path | None = None, *, keep: bool = False) -> int:
    """Play the demo; with ``keep``, leave the network running (until Ctrl-C) with the office consoles open."""
    say("== ewp-node demo: a local EWP network on loopback ==")
    with Sandbox(directory, nodes=2) as sandbox:
        a, b = sandbox.nodes
        say(f"registry: {sandbox.catalogue_url} (built from the nodes' manifests, "
            f"{'validated against the official XSDs' if sandbox.specs_dir else 'checked structurally'})")
        for node in sandbox.nodes:
            say(f"node {node.hei_id} at {node.base_url}")
        plan: list[Callable[[], Step | None]] = [
            lambda: echo_step(a, b),
            lambda: echo_step(b, a),
            lambda: institution_step(a, b),
            lambda: replicate_step(a, b),
            lambda: transcript_step(a, b),
        ]
        steps = []
        for run in plan:
            step = run()
            if step is None:
                continue
            _narrate(step)
            steps.append(step)
        from ewp_node.demo_iias import play

        say(f"\n== interinstitutional agreements: {a.hei_id} and {b.hei_id} agree, approve, edit, approve again ==")
        steps.extend(play(a, b, narrate=_narrate))
        from ewp_node.demo_mobilities import play as play_mobility

        say(f"\n== a student goes abroad: {a.hei_id} nominates, {b.hei_id} approves; the learning agreement is "
            "proposed, commented, proposed again, approved, then changed during the stay and approved ==")
        steps.extend(play_mobility(a, b, narrate=_narrate))
        held = sum(s.held for s in steps)
        say(f"\n== summary: {held} of {len(steps)} steps held ==")
        for step in steps:
            say(f"  [{'ok' if step.held else 'FAILED'}] {step.title}")
        failed = next((step for step in steps if not step.held), None)
        if failed is not None:
            say(f"\nthe demo FAILED at \"{failed.title}\": {failed.detail}")
        if keep:
            _keep_running(sandbox, a, b)
    return 0 if held == len(steps) else 1


def _keep_running(sandbox: Sandbox, a: SandboxNode, b: SandboxNode) -> None:
    from ewp_node.demo_console import prepare_console

    say("\n== the network keeps running; the office consoles are open ==")
    for line in prepare_console(a, b):
        say(line)
    say(f"(the nodes' TLS certificates come from the sandbox CA: {sandbox.ca.cert_path}; Ctrl-C stops the network)")
    try:
        sandbox.wait()
    except KeyboardInterrupt:
        say("stopped")


if __name__ == "__main__":
    sys.exit(run_demo())
