"""`vidgen bench`: counts out of range and missing arguments are one-line errors, before work."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.test_case import one_line_error, run_cli


def test_bench_generate_says_which_of_path_and_model_is_wrong(tiny_export):
    one_line_error(run_cli("bench", "generate"), "nothing to time: give an export directory PATH")
    both = run_cli("bench", "generate", str(tiny_export["export"]), "--model", "mocogan")
    one_line_error(both, "give an export directory PATH or --model, not both")
    assert "nothing to time" not in both.stderr


@pytest.mark.parametrize("argv, fragment", [
    (["generate", "PATH", "--threads", "-1"], "--threads must be >= 1"),
    (["generate", "PATH", "--threads", "0"], "--threads must be >= 1"),
    (["generate", "PATH", "--warmup", "-1"], "--warmup must be >= 0; received -1"),
    (["data", "shapes", "--warmup", "-1"], "--warmup must be >= 0; received -1"),
    (["train", "--batch-size", "0"], "--batch-size must be >= 1"),
    (["train", "--batch-size", "-4"], "--batch-size must be >= 1"),
])
def test_bench_counts_out_of_range_are_refused(tiny_export, argv, fragment):
    argv = [str(tiny_export["export"]) if a == "PATH" else a for a in argv]
    one_line_error(run_cli("bench", *argv), fragment)


# A runtime-only install: the train extra's packages are absent, so importing them fails as
# it would there ("No module named 'tensorflow'").
_WITHOUT_TRAIN_EXTRA = """
import importlib.abc, sys

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "tf2onnx", "onnx"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from vidgen_tf.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_bench_generate_model_without_tensorflow_says_to_install_train_or_give_a_path():
    result = subprocess.run([sys.executable, "-c", _WITHOUT_TRAIN_EXTRA, "bench", "generate",
                             "--model", "mocogan", "--preset", "tiny", "--calls", "1"],
                            capture_output=True, text=True, timeout=120)
    line = one_line_error(result, "--model needs the train extra")
    assert 'pip install "vidgen_tf[train]"' in line and "export directory PATH" in line
    assert "unexpected" not in line
