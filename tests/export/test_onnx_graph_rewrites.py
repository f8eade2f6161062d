"""The ONNX graph rewrites of the export, each checked against an independent implementation:
onnxruntime's own ConvTranspose for the Conv rewrite and BatchNorm folding, Keras's GRU for the
spliced ONNX GRU op."""

from __future__ import annotations

import keras
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from vidgen_tf.export.generator_export import GRAPH_CANDIDATES
from vidgen_tf.export.onnx_gru import splice_grus
from vidgen_tf.export.onnx_rewrite import rewrite_conv_transposes


def _run(model, feeds):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def _upsampling_block(cin=8, cout=16, height=8, width=None, seed=0):
    """ConvTranspose(k4, s2, p1) -> Mul -> Add (inference BatchNorm) -> Relu, NCHW."""
    width = width or height
    rng = np.random.default_rng(seed)
    inits = [
        numpy_helper.from_array(rng.normal(size=(cin, cout, 4, 4)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.uniform(0.5, 2, (1, cout, 1, 1)).astype(np.float32), "scale"),
        numpy_helper.from_array(rng.normal(size=(cout, 1, 1)).astype(np.float32), "shift"),
    ]
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w"], ["t"], kernel_shape=[4, 4], strides=[2, 2],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["t", "scale"], ["m"]),
        helper.make_node("Add", ["m", "shift"], ["a"]),
        helper.make_node("Relu", ["a"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "block", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                       [None, cin, height, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                        [None, cout, 2 * height, 2 * width])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    x = rng.normal(size=(3, cin, height, width)).astype(np.float32)
    return model, {"x": x}


@pytest.mark.parametrize("interleave, ops_used, conv_count", [
    ("depth_to_space", {"Conv", "Slice", "DepthToSpace", "Relu"}, 1),
    ("channels_last", {"Conv", "Transpose", "Concat", "Reshape", "Relu"}, 4),
])
@pytest.mark.parametrize("height, width", [(3, 3), (8, 8), (4, 6)])
def test_conv_rewrite_equals_onnxruntime_conv_transpose(height, width, interleave, ops_used,
                                                        conv_count):
    model, feeds = _upsampling_block(height=height, width=width)
    expected = _run(model, feeds)
    count = rewrite_conv_transposes(model, feeds, min_input_size=0, min_output_channels=0,
                                    interleave=interleave)
    assert count == 1
    ops = [n.op_type for n in model.graph.node]
    assert "ConvTranspose" not in ops and "Mul" not in ops and "Add" not in ops
    assert ops_used <= set(ops) and ops.count("Conv") == conv_count
    got = _run(model, feeds)
    assert got.shape == expected.shape == (3, 16, 2 * height, 2 * width)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-5)
    assert expected.min() == 0 and expected.max() > 1  # the Relu and the scale really act


def test_an_unknown_interleave_is_refused():
    model, feeds = _upsampling_block()
    with pytest.raises(ValueError, match="depth_to_space, channels_last"):
        rewrite_conv_transposes(model, feeds, interleave="nchw")


def test_a_kept_conv_transpose_absorbs_the_batchnorm_after_it():
    model, feeds = _upsampling_block(height=8)
    expected = _run(model, feeds)
    count = rewrite_conv_transposes(model, feeds, min_input_size=2**31)
    assert count == 0
    assert [n.op_type for n in model.graph.node] == ["ConvTranspose", "Relu"]
    np.testing.assert_allclose(_run(model, feeds), expected, atol=1e-4, rtol=1e-5)


def test_spliced_onnx_gru_equals_keras_gru():
    units, features = 6, 5
    gru = keras.layers.GRU(units, return_sequences=True, use_cudnn=False)
    gru.build((None, None, features))
    rng = np.random.default_rng(0)
    gru.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32)
                     for w in gru.get_weights()])  # non-zero biases: both bias halves count
    graph = helper.make_graph(
        [helper.make_node("Identity", ["motion"], ["codes"])], "identity",
        [helper.make_tensor_value_info("motion", TensorProto.FLOAT, ["batch", "frames", units])],
        [helper.make_tensor_value_info("codes", TensorProto.FLOAT, ["batch", "frames", units])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    splice_grus(model, {"motion": gru})
    onnx.checker.check_model(model)
    assert "GRU" in [n.op_type for n in model.graph.node]
    for frames in (1, 7, 20):
        x = rng.normal(size=(3, frames, features)).astype(np.float32)
        np.testing.assert_allclose(_run(model, {"motion": x}), np.asarray(gru(x)), atol=1e-5)


def test_a_gru_that_onnx_cannot_express_is_refused():
    gru = keras.layers.GRU(4, reset_after=False, return_sequences=True, use_cudnn=False)
    gru.build((None, None, 3))
    graph = helper.make_graph(
        [helper.make_node("Identity", ["motion"], ["codes"])], "identity",
        [helper.make_tensor_value_info("motion", TensorProto.FLOAT, ["batch", "frames", 4])],
        [helper.make_tensor_value_info("codes", TensorProto.FLOAT, ["batch", "frames", 4])])
    model = helper.make_model(graph)
    with pytest.raises(ValueError, match="reset_after"):
        splice_grus(model, {"motion": gru})


def test_the_exported_mocogan_runs_its_gru_as_one_onnx_op(tiny_export):
    model = onnx.load(str(tiny_export["export"] / "model.onnx"))
    ops = {n.op_type for n in model.graph.node}
    assert "GRU" in ops and "Loop" not in ops
    assert tiny_export["manifest"]["graphs"]["generator"]["recurrent_ops"] == ["motion"]
    assert tiny_export["manifest"]["graphs"]["generator"]["graph"] in GRAPH_CANDIDATES
