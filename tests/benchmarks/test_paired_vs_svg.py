"""benchmarks/paired_vs_svg.py and svg_worker.py: the CPU line, argument errors, the settings
both sides train at, and (with torch and a checkout of edenton/svg) the official step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.benchmarks.scripts import BENCHMARKS, load_benchmark

# Where the official side lives when it is installed (see paired_vs_svg.py's docstring).
TORCH_PYTHON = Path(os.environ.get("VIDGEN_TORCH_PYTHON", "/tmp/torch/bin/python"))
SVG_CHECKOUT = Path(os.environ.get("VIDGEN_SVG_CHECKOUT", "/tmp/svg_official"))

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu avx2 avx512f amx_bf16 avx512_bf16 amx_tile

processor\t: 1
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu avx2 avx512f amx_bf16 avx512_bf16 amx_tile
"""


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCHMARKS / "paired_vs_svg.py"), *args],
                          capture_output=True, text=True, timeout=60)


def test_the_cpu_line_names_the_model_and_only_its_bf16_flags():
    describe = load_benchmark("paired_vs_svg").cpu_description
    assert describe(CPUINFO) == "Intel(R) Xeon(R) Processor (avx512_bf16, amx_bf16)"
    avx2_only = "model name\t: AMD EPYC 7B12\nflags\t\t: fpu avx2 fma\n"
    assert describe(avx2_only) == "AMD EPYC 7B12 (no bf16 instructions)"
    assert describe("processor\t: 0\nBogoMIPS\t: 50.00\n") == "unknown CPU (no bf16 instructions)"


@pytest.mark.parametrize("args, fragment", [
    (("--rounds", "0"), "--rounds must be >= 1; received 0"),
    (("--batch-size", "0"), "--batch-size must be >= 1; received 0"),
    (("--precision", "int8"), "--precision must be float32 or mixed_bfloat16"),
])
def test_bad_arguments_are_one_usage_error_before_any_worker_starts(args, fragment, tmp_path):
    # A missing interpreter would fail later, in Worker: the arguments are checked first.
    result = run_script("--torch-python", str(tmp_path / "no_python"), "--svg",
                        str(BENCHMARKS), *args)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("paired_vs_svg.py: error: ") and fragment in last, result.stderr


def test_a_folder_that_is_not_the_svg_checkout_is_refused(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "lstm.py").write_text("")  # dcgan_64.py is missing
    result = run_script("--torch-python", sys.executable, "--svg", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "--svg must be a checkout of github.com/edenton/svg" in result.stderr
    assert str(tmp_path) in result.stderr


def test_the_official_side_trains_at_the_settings_of_the_svg_preset():
    from vidgen_tf.models.svg.presets import SVG_PRESETS

    settings = load_benchmark("svg_worker").SETTINGS  # importing it must not need torch
    preset = SVG_PRESETS["cpu_smmnist"]
    ours = {"n_past": "context", "n_future": "horizon", "image_width": "size",
            "channels": "channels", "g_dim": "g_dim", "z_dim": "z_dim", "rnn_size": "rnn_size",
            "predictor_rnn_layers": "predictor_layers", "prior_rnn_layers": "prior_layers",
            "posterior_rnn_layers": "posterior_layers", "lr": "learning_rate"}
    assert {key: settings[key] for key in ours} == {key: preset[name]
                                                    for key, name in ours.items()}
    # The same KL balance: the official MSE is of frames in [0, 1], ours of frames in
    # [-1, 1], 4 times larger, so our beta is 4 times the official one.
    assert preset["beta"] == pytest.approx(4 * settings["beta"])
    assert preset["base_filters"] == 64  # the official DCGAN 64's fixed nf


@pytest.mark.slow
@pytest.mark.skipif(not TORCH_PYTHON.exists() or not (SVG_CHECKOUT / "models").is_dir(),
                    reason="needs torch at VIDGEN_TORCH_PYTHON and edenton/svg at "
                           "VIDGEN_SVG_CHECKOUT")
def test_one_official_step_trains_all_five_networks_of_our_sizes():
    result = subprocess.run([str(TORCH_PYTHON), str(BENCHMARKS / "svg_worker.py"), "--svg",
                             str(SVG_CHECKOUT), "--check", "--batch", "2"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    check = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(check["changed"].values()), check["changed"]
    assert np.isfinite(check["mse"]) and np.isfinite(check["kld"]) and check["kld"] >= 0

    from vidgen_tf.models.registry import build_untrained

    network = build_untrained("svg", "cpu_smmnist").predictor
    network.build()

    def count(model):
        return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)

    params = check["params"]
    assert params["encoder"] == count(network.encoder)
    assert params["decoder"] == count(network.decoder)
    # torch's LSTMCell keeps two gate biases (b_ih, b_hh) where our one Dense over [x, h]
    # keeps one: 4 x 256 more per cell, over 2 + 1 + 1 cells.
    lstm_params = params["frame_predictor"] + params["prior"] + params["posterior"]
    assert lstm_params == count(network.step) + 4 * 4 * 256
