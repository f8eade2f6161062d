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


def test_a_file_where_a_folder_should_be_is_named(monkeypatch, capsys, tmp_path):
    (tmp_path / "afile").write_text("mine")
    target = tmp_path / "afile" / "sub"
    try:
        target.mkdir(parents=True)
    except OSError as exc:
        code, err = _run_raising(monkeypatch, capsys, exc)
    assert code == 2
    assert err.strip() == (f"vidgen: error: cannot use {target}: {tmp_path / 'afile'} is a "
                           "file, not a folder")


def test_an_os_error_without_a_path_keeps_its_message(monkeypatch, capsys):
    code, err = _run_raising(monkeypatch, capsys, OSError("disk on fire"))
    assert code == 2 and err.strip() == "vidgen: error: disk on fire"


def test_a_half_built_object_cut_short_by_a_signal_is_not_reported(monkeypatch, capsys):
    # CI: SIGTERM landed inside TensorFlow's ApiDefMap.__init__; its __del__ then failed and
    # "AttributeError: 'ApiDefMap' object has no attribute '_api_def_map'" ended the output.
    import sys

    class HalfBuilt:
        def __init__(self):
            raise cli_main.Terminated  # the signal, before the attribute below is set
            self.handle = 1

        def __del__(self):
            self.handle.close()

    def run(args):
        HalfBuilt()

    class Parser:
        def parse_args(self, argv):
            return argparse.Namespace(run=run)

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    monkeypatch.setattr(cli_main, "build_parser", Parser)
    assert cli_main.main([]) == 143
    assert capsys.readouterr().err.strip() == "vidgen: error: terminated"
    assert reported == []
    assert sys.unraisablehook == reported.append  # the caller's hook is back


def test_after_ctrl_c_tensorflows_never_used_reports_are_silenced(monkeypatch, capsys):
    import logging

    tf_logger = logging.getLogger("tensorflow")
    saved_level = tf_logger.level
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger().addHandler(handler)
    try:
        code, err = _run_raising(monkeypatch, capsys, KeyboardInterrupt())
        assert code == 130 and err.strip() == "vidgen: error: interrupted"
        # What TensorFlow logs when an interrupted op's TensorArray is collected at exit.
        tf_logger.error("==================================\nObject was never used ...")
    finally:
        logging.getLogger().removeHandler(handler)
        tf_logger.setLevel(saved_level)
    assert records == []


@pytest.mark.parametrize("message", ["Graph execution error:\n\nDetected at node x\n  File a.py"])
def test_an_unexpected_error_is_one_line(monkeypatch, capsys, message):
    code, err = _run_raising(monkeypatch, capsys, RuntimeError(message))
    assert code == 1
    assert err.strip().splitlines() == [
        "vidgen: error: unexpected RuntimeError: Graph execution error: (rerun with --verbose "
        "for details)"]


def test_sigterm_during_export_cleans_up_like_ctrl_c(tiny_export, tmp_path):
    # `kill` (SIGTERM) used to end the process at once, leaving hidden partial folders behind,
    # one of them a complete-looking SavedModel.
    import signal
    import subprocess
    import sys
    import time

    saved, export = tmp_path / "saved_models", tmp_path / "export"
    process = subprocess.Popen(
        [sys.executable, "-m", "vidgen_tf.cli.main", "export", str(tiny_export["run_dir"]),
         "--name", "m", "--saved-models-dir", str(saved), "--export-dir", str(export)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None and not any(
            p.name.startswith(".m.partial") for d in (saved, export) if d.exists()
            for p in d.iterdir()):
        time.sleep(0.05)
    time.sleep(0.5)
    assert process.poll() is None, "the export ended before it could be stopped"
    process.send_signal(signal.SIGTERM)
    stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 143, stderr
    assert stderr.strip().splitlines()[-1] == "vidgen: error: terminated"
    assert "Traceback" not in stderr
    left = [p.name for d in (saved, export) if d.exists() for p in d.iterdir()]
    assert left == [], left


def test_a_swallowed_sigterm_still_stops_an_export_before_it_commits(tmp_path, monkeypatch):
    # A SIGTERM landing inside a C extension can come back out as a SystemError that library
    # code catches: the flag the handler sets must still keep the export from committing.
    import pytest

    from vidgen_tf import interrupts
    from vidgen_tf.export.folders import commit

    tmp, final = tmp_path / ".m.partial", tmp_path / "m"
    tmp.mkdir()
    monkeypatch.setattr(interrupts, "_terminated", False)
    commit(tmp, final)  # no signal: committed
    assert final.is_dir() and not tmp.exists()
    tmp.mkdir()
    interrupts.note_termination()
    with pytest.raises(interrupts.Terminated):
        commit(tmp, tmp_path / "other")
    assert not (tmp_path / "other").exists()
