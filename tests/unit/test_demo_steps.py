"""How ``ewp-node demo`` plays a scenario: steps in order, narrated as they end, stopped at the first that does
not hold; a refused exchange becomes a failed step with its message rather than a trace."""

from __future__ import annotations

from ewp_node.client import PartnerUnavailable
from ewp_node.demo import Step, play_until_failure
from ewp_node.demo_mobilities import run_step
from ewp_node.mobilities.service import StaleProposal


def test_a_scenario_stops_at_the_first_step_that_does_not_hold() -> None:
    narrated: list[Step] = []
    ran: list[str] = []

    def step(title: str, held: bool):  # type: ignore[no-untyped-def]
        def run() -> Step:
            ran.append(title)
            return Step(title, held, "")
        return run

    outcomes = play_until_failure([step("one", True), step("two", False), step("three", True)], narrated.append)
    assert [s.title for s in outcomes] == ["one", "two"] == ran
    assert narrated == outcomes


def test_a_refused_exchange_is_a_failed_step_that_says_why() -> None:
    def refused() -> tuple[bool, str]:
        raise PartnerUnavailable("uni-a.example.eu answered HTTP 500 to our update")

    def stale() -> tuple[bool, str]:
        raise StaleProposal("the LA proposal changed since we read it")

    step = run_step("B approves", refused)
    assert step == Step("B approves", False,
                        "stopped: PartnerUnavailable: uni-a.example.eu answered HTTP 500 to our update")
    assert not run_step("B approves", stale).held
    assert run_step("B approves", lambda: (True, "approved")) == Step("B approves", True, "approved")
