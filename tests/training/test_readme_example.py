"""The README's "From Python" block (under Training) runs as written: train, save, reload, export,
generate through the runtime."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- python-training-example -->"


def readme_example() -> str:
    text = README.read_text()
    match = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)```", text, re.S)
    assert match, f"no python block after {MARKER} in the README"
    return match.group(1)


def test_the_readme_python_training_example_runs_as_written(tmp_path):
    code = readme_example() + (
        "\nimport json, numpy\n"
        "numpy.save('video.npy', video)\n"
        "print(json.dumps({name: int(getattr(gan, name).iterations) "
        "for name in gan.optimizer_names}))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-3000:]
    iterations = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(iterations.values()) == {40}, iterations  # 2 epochs x 20 steps, reloaded
    assert (tmp_path / "run" / "samples" / "epoch_0002.gif").exists()
    manifest = json.loads((tmp_path / "export" / "my_model" / "manifest.json").read_text())
    assert manifest["family"] == "mocogan"
    video = np.load(tmp_path / "video.npy")
    assert video.shape == (4, 16, 32, 32, 3) and video.dtype == np.uint8
    assert video.std() > 0  # not a blank clip
