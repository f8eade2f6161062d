"""`vidgen export --quantize int8`: the channels-last int8 chain for MoCoGAN, the generic QDQ
path for the others, both checked against the float32 export of the same weights."""

from __future__ import annotations

import keras
import numpy as np
import onnx
import pytest

from tests.export.test_onnx_dims import assert_axes_named_as_the_manifest
from vidgen_tf.export.generator_export import export_generator
from vidgen_tf.models.dcgan3d import VideoDCGAN
from vidgen_tf.models.mocogan import MoCoGANGenerator
from vidgen_tf.runtime import VideoGenerator


def _export_both(tmp_path, model):
    model.save(tmp_path / "m.keras")
    dirs = {"saved_models_dir": tmp_path / "s", "export_dir": tmp_path / "e"}
    export_generator(tmp_path / "m.keras", "f32", **dirs)
    manifest = export_generator(tmp_path / "m.keras", "q", quantize="int8", **dirs)
    for name in ("f32", "q"):  # the int8 graph is rebuilt, and still names its axes
        assert_axes_named_as_the_manifest(tmp_path / "e" / name)
    f32 = VideoGenerator(tmp_path / "e" / "f32").generate(8, seed=3).astype(np.int16)
    q = VideoGenerator(tmp_path / "e" / "q").generate(8, seed=3).astype(np.int16)
    return manifest, f32, q


@pytest.fixture(scope="module")
def strong_mocogan():
    """A random MoCoGAN generator with its output layer scaled up so the video spans the whole
    pixel range (an untrained one stays near grey, where any int8 graph looks right)."""
    keras.utils.set_random_seed(0)
    generator = MoCoGANGenerator(frames=8, size=32, content_dim=8, base_filters=16)
    generator.build()
    kernel, bias = generator.to_frame.get_weights()
    generator.to_frame.set_weights([kernel * 100.0, bias])
    return generator


def test_mocogan_int8_is_a_channels_last_chain_close_to_float32(tmp_path, strong_mocogan):
    manifest, f32, q = _export_both(tmp_path, strong_mocogan)
    assert manifest["graphs"]["generator"]["precision"] == "int8"
    assert manifest["parity"]["graphs"]["generator"]["int8_method"] == "nhwc_chain"
    graph = onnx.load(str(tmp_path / "e" / "q" / "model.onnx")).graph
    convs = [n for n in graph.node if n.op_type == "QLinearConv"]
    # Four phases for each of the 2 wide upsampling layers (4 -> 16), one merged conv for the
    # RGB layer (16 -> 32).
    assert len(convs) == 4 * 2 + 1
    assert all(n.domain == "com.microsoft" for n in convs)
    chain = [n for n in graph.node if n.name.startswith("int8")]
    assert not {"ConvTranspose", "DepthToSpace"} & {n.op_type for n in chain}
    # No NCHW <-> NHWC layout change: the one Transpose is the RGB layer's interleave, which
    # swaps the row-phase axis with the columns.
    transposes = [n for n in chain if n.op_type == "Transpose"]
    assert [list(onnx.helper.get_attribute_value(n.attribute[0])) for n in transposes] == [
        [0, 1, 3, 2, 4]]
    assert f32.std() > 40  # the float video really uses the pixel range
    error = np.abs(q - f32)

    assert error.mean() < 2.0 and np.percentile(error, 99) <= 12
    assert manifest["parity"]["graphs"]["generator"]["int8_mean_pixel_error"] < 2.0


def test_the_merged_rgb_layer_gives_the_same_video_as_four_phase_convs(tmp_path, strong_mocogan,
                                                                       monkeypatch):
    from vidgen_tf.export import int8_upsampling

    strong_mocogan.save(tmp_path / "m.keras")
    dirs = {"saved_models_dir": tmp_path / "s", "export_dir": tmp_path / "e"}
    videos = {}
    for name, below in (("merged", int8_upsampling.MERGED_PHASES_BELOW), ("four", 0)):
        monkeypatch.setattr(int8_upsampling, "MERGED_PHASES_BELOW", below)
        export_generator(tmp_path / "m.keras", name, quantize="int8", **dirs)
        graph = onnx.load(str(tmp_path / "e" / name / "model.onnx")).graph
        videos[name] = VideoGenerator(tmp_path / "e" / name).generate(4, seed=5)
        assert sum(n.op_type == "QLinearConv" for n in graph.node) == (9 if below else 12)
    # Same int8 weights, scales and accumulations per output channel: equal to the bit.
    np.testing.assert_array_equal(videos["merged"], videos["four"])
    assert videos["four"].std() > 40


def test_a_family_without_the_chain_falls_back_to_qdq(tmp_path):
    gan = VideoDCGAN(frames=8, size=16, z_dim=8, base_filters=8)
    gan.build()
    manifest, f32, q = _export_both(tmp_path, gan)
    assert manifest["parity"]["graphs"]["generator"]["int8_method"] == "qdq_static"
    assert q.shape == f32.shape and np.abs(q - f32).mean() < 3.0
