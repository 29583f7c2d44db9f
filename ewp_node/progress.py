"""Progress shown to an operator at a terminal (rich): a bar for counted work, a spinner for a wait.

Nothing is drawn when the stream is not a terminal (logs, pipes, cron), so output stays clean there.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO


def _ignore(_done: int, _total: int) -> None:
    """The progress callback off a terminal."""


@contextmanager
def progress_bar(label: str, stream: TextIO | None = None) -> Iterator[Callable[[int, int], None]]:
    """A bar on ``stream`` (default stderr) while the block runs; yields the ``progress(done, total)``
    callback the importer and the replication take."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(file=stream)) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def spinner(label: str, stream: TextIO | None = None) -> Iterator[None]:
    """A spinner with ``label`` on ``stream`` (default stderr) while the block runs (work of unknown size)."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield
        return
    from rich.console import Console

    with Console(file=stream).status(label):
        yield
