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
from pathlib import Path

import pytest
import requests

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


def test_the_demo_plays_every_step_and_keeps_the_consoles_open(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EWP_NODE_")}
    process = subprocess.Popen([sys.executable, "-m", "ewp_node.cli", "demo", "--keep", "--dir", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    out: list[str] = []
    reader = threading.Thread(target=_lines, args=(process, out), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + DEMO_SECONDS
        while sum(line.startswith("console of ") for line in out) < 2 and process.poll() is None:
            assert time.monotonic() < deadline, "\n".join(out[-40:])
            time.sleep(0.5)
        text = "\n".join(out)
        summary = re.search(r"== summary: (\d+) of (\d+) steps held ==", text)
        assert summary is not None and summary[1] == summary[2], text[-3000:]
        assert "fetched 3 learning agreements" in text, text[-2000:]
        for narrated in MOBILITY_NARRATION:
            assert re.search(narrated, text), (narrated, text[-4000:])
        ca = re.search(r"sandbox CA: (\S+);", text)
        assert ca is not None, text[-2000:]
        url, user, password = re.search(r"console of \S+: (\S+)  login (\S+) / (\S+)", text).groups()  # type: ignore[union-attr]
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
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, "\n".join(out[-40:])
