"""`--precision auto`: bfloat16 where the CPU has bfloat16 instructions, else float32; and the
warning when TensorFlow's oneDNN kernels are off because of the import order."""

import os
import subprocess
import sys

import keras
import pytest

from vidgen_tf.errors import VidgenError
from vidgen_tf.training import setup


def test_cpu_flags_decide_bf16(tmp_path):
    with_bf16 = tmp_path / "a"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_tile\n")
    without = tmp_path / "b"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n")
    assert setup.cpu_has_bf16(str(with_bf16)) is True
    assert setup.cpu_has_bf16(str(without)) is False
    assert setup.cpu_has_bf16(str(tmp_path / "missing")) is False


@pytest.mark.parametrize("has_bf16, expected", [(True, "mixed_bfloat16"), (False, "float32")])
def test_auto_precision_follows_the_cpu(monkeypatch, has_bf16, expected):
    monkeypatch.setattr(setup, "cpu_has_bf16", lambda: has_bf16)
    try:
        assert setup.set_precision("auto") == expected
        assert keras.mixed_precision.global_policy().name == expected
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_unknown_precision_lists_auto():
    with pytest.raises(VidgenError, match="choose one of: auto, float32"):
        setup.set_precision("fp8")


@pytest.mark.parametrize("has_bf16", [True, False])
def test_bfloat16_on_a_cpu_without_bf16_instructions_warns(monkeypatch, caplog, has_bf16):
    monkeypatch.setattr(setup, "cpu_has_bf16", lambda: has_bf16)
    try:
        with caplog.at_level("WARNING", logger="vidgen_tf.training.setup"):
            assert setup.set_precision("mixed_bfloat16") == "mixed_bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")
    warned = [r.getMessage() for r in caplog.records if "no bfloat16 instructions" in
              r.getMessage()]
    assert len(warned) == (0 if has_bf16 else 1)
    if warned:
        assert "--precision auto" in warned[0]


ONEDNN_SCRIPT = """
{first}
import keras
from vidgen_tf.models.dcgan3d import VideoDCGAN
from vidgen_tf.training.setup import onednn_enabled
VideoDCGAN(frames=8, size=16, z_dim=8, base_filters=8).compile()
print("onednn", onednn_enabled())
"""


@pytest.mark.parametrize("first, env, warned", [
    ("", {}, True),                                       # import keras first: off, warned
    ("import vidgen_tf", {}, False),                      # vidgen_tf first: on
    ("", {"TF_ENABLE_ONEDNN_OPTS": "0"}, False),          # turned off on purpose
])
def test_training_warns_when_onednn_is_off_by_import_order(first, env, warned):
    if "avx512_vnni" in open("/proc/cpuinfo").read() or setup.cpu_has_bf16():
        pytest.skip("TensorFlow turns oneDNN on by itself on this CPU")
    base = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    result = subprocess.run([sys.executable, "-c", ONEDNN_SCRIPT.format(first=first)],
                            capture_output=True, text=True, timeout=300, env={**base, **env})
    assert result.returncode == 0, result.stderr[-2000:]
    assert ("oneDNN CPU kernels are off" in result.stderr) == warned, result.stderr[-2000:]
    assert result.stdout.strip().endswith(f"onednn {not warned and not env}")
