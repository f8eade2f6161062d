"""A termination that the interrupted code swallowed must still stop the work.

`vidgen` turns SIGTERM into a `Terminated` exception. A signal that lands while a C extension
calls back into Python (TensorFlow importing a module mid-call) can come back out as a
SystemError, which library code may catch and carry on from: the export then finished and
was committed with the process killed. `note_termination` records the signal, and
`raise_if_terminated` raises it again where it matters, before anything is committed."""

from __future__ import annotations


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a job scheduler), raised like Ctrl-C so that every clean-up of partial
    files and folders runs."""


_terminated = False


def note_termination() -> None:
    global _terminated
    _terminated = True


def raise_if_terminated() -> None:
    """Raise `Terminated` if a SIGTERM arrived, even one that was swallowed since."""
    if _terminated:
        raise Terminated
