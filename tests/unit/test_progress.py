"""Progress bars and spinners draw on terminals only."""

from __future__ import annotations

import io

from ewp_node.progress import progress_bar, spinner


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_draws_on_a_terminal() -> None:
    out = Terminal()
    with progress_bar("big.csv", out) as progress:
        progress(100, 400)
        progress(400, 400)
    assert "big.csv" in out.getvalue() and "400/400" in out.getvalue()


def test_nothing_is_drawn_off_a_terminal() -> None:
    quiet = io.StringIO()
    with progress_bar("big.csv", quiet) as progress:
        progress(10, 400)
    with spinner("fetching", quiet):
        pass
    assert quiet.getvalue() == ""


def test_spinner_on_a_terminal() -> None:
    out = Terminal()
    with spinner("fetching the catalogue", out):
        pass
    assert "fetching the catalogue" in out.getvalue()
