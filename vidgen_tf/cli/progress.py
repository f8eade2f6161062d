"""A progress bar for long CLI work: tqdm when installed and stderr is a terminal."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def progress_bar(total: int | None, desc: str, unit: str = "file"):
    """Yield an `update(n)` callable; draws a tqdm bar on an interactive stderr."""
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is None or not sys.stderr.isatty():
        yield lambda n=1: None
        return
    with tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True, leave=False) as bar:
        yield bar.update
