"""`vidgen`'s error reporting: one line, the user's path, no TensorFlow stack."""

from __future__ import annotations

import argparse
import errno

import pytest

from vidgen_tf.cli import main as cli_main


def _run_raising(monkeypatch, capsys, exc):
    def fail(args):
        raise exc

    class Parser:
        def parse_args(self, argv):
            return argparse.Namespace(run=fail)

    monkeypatch.setattr(cli_main, "build_parser", Parser)
    code = cli_main.main([])
    return code, capsys.readouterr().err


def test_an_os_error_names_the_users_path_not_the_temporary_file(monkeypatch, capsys):
    # os.replace(".out.partial.gif", "out.gif") onto a directory
    exc = IsADirectoryError(errno.EISDIR, "Is a directory", ".out.partial.gif", None, "out.gif")
    code, err = _run_raising(monkeypatch, capsys, exc)
    assert code == 2
    assert err.strip() == "vidgen: error: cannot use out.gif: Is a directory"


def test_an_os_error_without_a_path_keeps_its_message(monkeypatch, capsys):
    code, err = _run_raising(monkeypatch, capsys, OSError("disk on fire"))
    assert code == 2 and err.strip() == "vidgen: error: disk on fire"


@pytest.mark.parametrize("message", ["Graph execution error:\n\nDetected at node x\n  File a.py"])
def test_an_unexpected_error_is_one_line(monkeypatch, capsys, message):
    code, err = _run_raising(monkeypatch, capsys, RuntimeError(message))
    assert code == 1
    assert err.strip().splitlines() == [
        "vidgen: error: unexpected RuntimeError: Graph execution error: (rerun with --verbose "
        "for details)"]
