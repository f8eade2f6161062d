"""The `vidgen` command: subcommand dispatch, logging, and one-line errors instead of tracebacks.

Subcommand modules are imported only when their command runs, so `vidgen --help`, `vidgen data
synth` and `vidgen generate` never import TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback

from vidgen_tf import __version__
from vidgen_tf.errors import VidgenError

# Subcommands arriving with later issues: (help line, issue that delivers it).
PLANNED = {
    "demo": ("train briefly on shapes, export, and generate: the whole path in minutes", 4),
}
# Implemented subcommands: name -> module with `add_parser(subparsers, common)`.
COMMANDS = {"data": "vidgen_tf.cli.data", "train": "vidgen_tf.cli.train",
            "export": "vidgen_tf.cli.export", "generate": "vidgen_tf.cli.generate",
            "bench": "vidgen_tf.cli.bench", "evaluate": "vidgen_tf.cli.evaluate"}


class UsageError(VidgenError):
    """A command line that cannot be run as given."""


def _planned(name: str, issue: int):
    def run(args) -> int:
        raise UsageError(
            f"`vidgen {name}` is not available in vidgen_tf {__version__} yet "
            f"(it is planned in issue #{issue}); see `vidgen --help` for the commands that are"
        )

    return run


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
    for name, (text, issue) in PLANNED.items():
        sub = subparsers.add_parser(name, parents=[common], help=f"{text} (planned, #{issue})",
                                    description=f"{text}. Not available yet: issue #{issue}.")
        sub.set_defaults(run=_planned(name, issue))
    return parser


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
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        _report("interrupted")
        return 130
    except (VidgenError, ValueError, TypeError, OSError) as exc:
        # User-facing problems: bad arguments, bad files, missing folders.
        if verbose:
            traceback.print_exc()
        _report(str(exc) or type(exc).__name__)
        return 2
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        _report(f"unexpected {type(exc).__name__}: {exc} (rerun with --verbose for details)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
