"""The `vidgen` command: subcommand dispatch, logging, and one-line errors instead of tracebacks.

Subcommand modules are imported only when their command runs, so `vidgen --help`, `vidgen data
synth` and `vidgen generate` never import TensorFlow.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from vidgen_tf import __version__
from vidgen_tf.errors import VidgenError
from vidgen_tf.interrupts import Terminated, note_termination, raise_if_terminated

# Implemented subcommands: name -> module with `add_parser(subparsers, common)`.
COMMANDS = {"data": "vidgen_tf.cli.data", "train": "vidgen_tf.cli.train",
            "export": "vidgen_tf.cli.export", "generate": "vidgen_tf.cli.generate",
            "bench": "vidgen_tf.cli.bench", "evaluate": "vidgen_tf.cli.evaluate",
            "demo": "vidgen_tf.cli.demo"}


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log progress details, and show tracebacks on errors")
    parser = argparse.ArgumentParser(
        prog="vidgen", parents=[common],
        description="Train video generation models with Keras, export them to ONNX, and "
                    "generate video with a thin runtime.",
    )
    parser.add_argument("--version", action="version", version=f"vidgen_tf {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module in COMMANDS.values():
        importlib.import_module(module).add_parser(subparsers, common)
    return parser


def _terminate(signum, frame):
    note_termination()  # kept, in case the code it lands in swallows the exception
    raise Terminated


def _report(message: str) -> None:
    print(f"vidgen: error: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s" if verbose else "%(levelname)s: %(message)s",
    )
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    unraisable_hook = sys.unraisablehook
    try:
        code = int(args.run(args) or 0)
        raise_if_terminated()  # a SIGTERM that the work swallowed still ends as one
        return code
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        _report("terminated" if terminated else "interrupted")
        # Ops cut short leave TensorFlow objects that it reports at exit as "never used", a
        # block of stack traces about its internals: nothing the user did or can act on.
        logging.getLogger("tensorflow").setLevel(logging.CRITICAL)
        # A signal that lands inside a constructor leaves a half-built object whose __del__
        # then fails ("Exception ignored in ...ApiDefMap.__del__"): noise after the report.
        sys.unraisablehook = _ignore
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)
    except (VidgenError, ValueError, TypeError, OSError) as exc:
        # User-facing problems: bad arguments, bad files, missing folders.
        if verbose:
            traceback.print_exc()
        _report(_os_error_message(exc) if isinstance(exc, OSError) else
                str(exc) or type(exc).__name__)
        return 2
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        pipeline = sys.modules.get("vidgen_tf.data.pipeline")  # loaded if it could have raised
        error = pipeline.pipeline_error(exc) if pipeline else None
        if error is not None:  # a VidgenError raised inside tf.data, wrapped by TensorFlow
            _report(str(error))
            return 2
        # TensorFlow's messages run on with the Python stack of the failing op: keep line one.
        first = (str(exc).strip().splitlines() or [""])[0]
        _report(f"unexpected {type(exc).__name__}: {first} (rerun with --verbose for details)")
        return 1
    finally:
        if sys.unraisablehook is _ignore:
            # No gc.collect() here: collecting an interrupted tf.data pipeline can wait on its
            # threads (a terminated training run once hung after its report).
            sys.unraisablehook = unraisable_hook
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _ignore(unraisable) -> None:
    del unraisable


def entry() -> None:
    """The `vidgen` command. After Ctrl-C or SIGTERM it leaves without the interpreter's
    shutdown, whose finalizers would report on TensorFlow objects cut short mid-build."""
    code = main()
    if code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _os_error_message(exc: OSError) -> str:
    """"cannot use PATH: reason" for OS errors that carry a path (the last path named, which
    is the user's target when a temporary file is renamed onto it)."""
    path = exc.filename2 if exc.filename2 is not None else exc.filename
    if path is None or not exc.strerror:
        return str(exc) or type(exc).__name__
    path = os.fsdecode(path)
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):  # mkdir of a folder path that is a file
        blocker = next((p for p in (Path(path), *Path(path).parents) if p.is_file()), None)
        if blocker is not None:
            return f"cannot use {path}: {blocker} is a file, not a folder"
    return f"cannot use {path}: {exc.strerror}"


if __name__ == "__main__":
    entry()
