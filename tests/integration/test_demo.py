"""``ewp-node demo --keep``: the README's main job plays every step (down to the mobility scenario, narrated
for an international office), then leaves the network running with each node's office console open,
reachable with the printed login."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from ewp_node.config import load_settings
from ewp_node.context import home_context
from ewp_node.mobilities.records import Direction
from ewp_node.mobilities.repository import las_by_ids, list_mobilities

pytestmark = pytest.mark.slow
#: Upper bound of the whole demo on a busy machine (it takes well under a minute on a quiet one).
DEMO_SECONDS = 400
#: What the mobility scenario tells the office, step by step (node A sends Léa Moreau to node B).
MOBILITY_NARRATION = (
    r"(\S+) imported the nomination of Léa Moreau \(European Student Identifier "
    r"urn:schac:personalUniqueCode:int:esi:\1:\d+, [^)]+\) .* Both nodes hold it, pending",
    r"(\S+) approved the nomination of Léa Moreau through \S+'s OMobilities update endpoint \(signed request\); "
    r"\S+'s record now says: approved; \1's copy: approved\n   OK",
    r"\S+ proposed [^\n]+ \(chosen from its copy of \S+'s catalogue\).* it awaits \S+'s answer",
    r"\S+ commented the proposal through \S+'s OMobility LAs update endpoint \(signed by [^)]+\): \"[^\"]+ is "
    r"full this term: please choose another course\"\. \S+'s record: commented, with that comment",
    r"Both nodes hold the first version, signed by the student, \S+ and \S+: [^\n]+\n   OK",
    r"During the stay, \S+ proposed a change: [^\n]+ removed \(timetable conflict\), [^\n]+ added in its place; "
    r"\S+ fetched it and approved it\. Both nodes hold the approved changes beside the unchanged first version\n"
    r"   OK",
    r"\[ok\] Learning agreement: a change during the mobility, approved by \S+",
)


def _lines(process: subprocess.Popen[str], out: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        out.append(line.rstrip("\n"))


@dataclass
class DemoNetwork:
    """``ewp-node demo --keep`` running in ``directory``: its output so far, and the consoles' logins."""

    directory: Path
    out: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.out)

    def console(self, index: int) -> tuple[str, str, str]:
        """URL, user and password of the ``index``-th console printed (0: node A, 1: node B)."""
        found = re.findall(r"console of \S+: (\S+)  login (\S+) / (\S+)", self.text)
        return found[index]  # type: ignore[no-any-return]

    def home(self, hei_id: str) -> Path:
        return next(toml.parent for toml in self.directory.glob("node-*/ewp-node.toml")
                    if hei_id in load_settings(toml.parent).hei_ids)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoNetwork]:
    """The demo played to its end, its network left running for the module's tests, then stopped (Ctrl-C). It runs
    in a session of its own: if it must be killed, its nodes' processes (same process group) go with it."""
    directory = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EWP_NODE_")}
    process = subprocess.Popen([sys.executable, "-m", "ewp_node.cli", "demo", "--keep", "--dir", str(directory)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               start_new_session=True)
    network = DemoNetwork(directory, [])
    reader = threading.Thread(target=_lines, args=(process, network.out), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + DEMO_SECONDS
        while sum(line.startswith("console of ") for line in network.out) < 2 and process.poll() is None:
            assert time.monotonic() < deadline, network.text[-4000:]
            time.sleep(0.5)
        yield network
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, network.text[-4000:]


def test_the_demo_plays_every_step_and_keeps_the_consoles_open(demo: DemoNetwork) -> None:
    text = demo.text
    summary = re.search(r"== summary: (\d+) of (\d+) steps held ==", text)
    assert summary is not None and summary[1] == summary[2], text[-3000:]
    assert "fetched 3 learning agreements" in text, text[-2000:]
    for narrated in MOBILITY_NARRATION:
        assert re.search(narrated, text), (narrated, text[-4000:])
    ca = re.search(r"sandbox CA: (\S+);", text)
    assert ca is not None, text[-2000:]
    url, user, password = demo.console(0)
    with requests.Session() as browser:  # verify per request: REQUESTS_CA_BUNDLE would beat a session's
        form = browser.get(url + "login", verify=ca[1], timeout=30).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)[1]  # type: ignore[index]
        home = browser.post(url + "login", data={"name": user, "password": password, "csrf": csrf},
                            verify=ca[1], timeout=30)
        assert home.status_code == 200 and "Signed in as" in home.text

        def table(name: str) -> list[str]:
            csv = browser.get(f"{url}indicators?format=csv&table={name}", verify=ca[1], timeout=30)
            assert csv.status_code == 200, name
            return csv.text.splitlines()[1:]

        # the first console is the first demo node's: its students left from its published faculties, to
        # a partner whose Erasmus code says Poland, and the partner's transcript of one came back recognized
        assert any(",outgoing,sci,Faculty of Science and Technology," in row for row in table("faculties"))
        assert ",outgoing,PL," in "\n".join(table("countries")), table("countries")
        assert any(row.startswith("2026/2027,uni-nadwislanski.edu.pl,") and row.endswith(",1,1")
                   for row in table("transcripts")), table("transcripts")
        assert any(row.startswith("uni-nadwislanski.edu.pl,") for row in table("exchanges"))


def test_an_officer_approves_in_the_browser_and_the_sandbox_partner_sees_it(demo: DemoNetwork, browser) -> None:  # type: ignore[no-untyped-def]
    """B's officer approves a learning agreement proposal of A's student in B's console, in Chromium; A's node
    (another process, reached over HTTPS with signed requests) then holds the first version signed by B."""
    a_hei, b_hei = re.findall(r"console of (\S+):", demo.text)
    with home_context(demo.home(b_hei)) as b, b.sessions() as session:
        ids = [m.omobility_id for m in list_mobilities(session, {b_hei}) if m.sending.hei_id == a_hei]
        pending = next(la for la in las_by_ids(session, {a_hei}, {b_hei}, ids, Direction.INCOMING)
                       if la.changes_proposal is not None)
    url, user, password = demo.console(1)
    context = browser.new_context(ignore_https_errors=True)  # the sandbox's own CA: TLS is not under test here
    try:
        page = context.new_page()
        page.goto(url + "mobilities")
        page.get_by_label("User name").fill(user)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(url + "mobilities")
        student = pending.mobility.student
        page.get_by_role("link", name=f"{student.given_names} {student.family_name}").first.click()
        page.get_by_role("button", name="Approve the proposal").click()
        assert page.get_by_role("status").inner_text() == f"Sent to {a_hei}: approved."
    finally:
        context.close()
    with home_context(demo.home(a_hei)) as a, a.sessions() as session:
        [at_a] = las_by_ids(session, {a_hei}, {b_hei}, [pending.mobility.omobility_id], Direction.OUTGOING)
    assert at_a.changes_proposal is None and at_a.first_version is not None
    assert at_a.first_version.receiving_signature is not None
    assert at_a.first_version.receiving_signature.signer_name == user
