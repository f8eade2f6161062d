"""`--precision auto`: bfloat16 where the CPU has bfloat16 instructions, else float32."""

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
