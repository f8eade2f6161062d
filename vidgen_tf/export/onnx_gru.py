"""Export a generator's noise GRU as one ONNX GRU op instead of tf2onnx's generic Loop.

tf2onnx turns a Keras GRU (a tf.while_loop) into an ONNX `Loop` whose body runs about twenty
small ops per frame: 3.8 ms of a 30 ms MoCoGAN video at paper_64. A generator that declares
`onnx_recurrent_inputs()` ({noise input name: Keras GRU}) and `render(inputs)` (the rest of the
network, fed the GRU's output under the same name) is converted without the GRU, and the GRU
is spliced in front of the converted graph as an ONNX GRU op built from the Keras weights.
The graph keeps the generator's input names and shapes; the export's parity check compares
the spliced graph with the full Keras generator.

Keras (reset_after=True) and ONNX (linear_before_reset=1) compute the same cell:

    z = sigmoid(x Wz + bz + h Uz + cz),  r = sigmoid(x Wr + br + h Ur + cr)
    h~ = tanh(x Wh + bh + r * (h Uh + ch)),  h' = z * h + (1 - z) * h~

with the gates in the same order (z, r, h) and a zero initial state.
"""

from __future__ import annotations

import numpy as np

CODES_SUFFIX = "/gru_codes"


def recurrent_inputs(generator) -> dict:
    """{noise input name: Keras GRU} for generators that declare one, else {}."""
    hook = getattr(generator, "onnx_recurrent_inputs", None)
    return dict(hook()) if hook else {}


def render_function(generator, signature: list, grus: dict):
    """A tf.function of `generator.render` taking each GRU's output in place of its noise."""
    import tensorflow as tf

    render_signature = [
        tf.TensorSpec([None, None, grus[spec.name].units], "float32", name=spec.name)
        if spec.name in grus else spec for spec in signature]
    names = [spec.name for spec in render_signature]

    @tf.function(input_signature=render_signature)
    def render(*inputs):
        return {"video": generator.render(dict(zip(names, inputs, strict=True)),
                                          training=False)}

    return render, render_signature


def splice_grus(model, grus: dict) -> None:
    """Put each GRU in front of `model` (an onnx.ModelProto converted from `render_function`)."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    new_nodes, new_inits = [], []
    for name, gru in grus.items():
        codes = name + CODES_SUFFIX
        for node in graph.node:
            for i, value in enumerate(node.input):
                if value == name:
                    node.input[i] = codes
        graph_input = next(i for i in graph.input if i.name == name)
        batch, frames = (graph_input.type.tensor_type.shape.dim[k] for k in (0, 1))
        kernel, recurrent, bias = _gru_weights(gru)
        units, features = gru.units, kernel.shape[0]
        graph_input.type.CopyFrom(helper.make_tensor_type_proto(
            TensorProto.FLOAT, [_dim(batch), _dim(frames), features]))
        prefix = f"{name}/gru"
        new_inits += [
            numpy_helper.from_array(kernel.T[None], f"{prefix}/W"),  # (1, 3u, features)
            numpy_helper.from_array(recurrent.T[None], f"{prefix}/R"),  # (1, 3u, u)
            numpy_helper.from_array(bias.reshape(1, 6 * units), f"{prefix}/B"),
            numpy_helper.from_array(np.array([1], np.int64), f"{prefix}/direction_axis"),
        ]
        new_nodes += [
            helper.make_node("Transpose", [name], [f"{prefix}/time_major"], perm=[1, 0, 2],
                             name=f"{prefix}/time_major"),
            helper.make_node("GRU", [f"{prefix}/time_major", f"{prefix}/W", f"{prefix}/R",
                                     f"{prefix}/B"], [f"{prefix}/Y"], hidden_size=units,
                             linear_before_reset=1, name=f"{prefix}/gru"),
            helper.make_node("Squeeze", [f"{prefix}/Y", f"{prefix}/direction_axis"],
                             [f"{prefix}/Y_time_major"], name=f"{prefix}/squeeze"),
            helper.make_node("Transpose", [f"{prefix}/Y_time_major"], [codes], perm=[1, 0, 2],
                             name=f"{prefix}/batch_major"),
        ]
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(new_nodes + nodes)
    graph.initializer.extend(new_inits)


def _gru_weights(gru):
    """Keras GRU weights as float32 (kernel, recurrent kernel, [input bias, recurrent bias])."""
    cell = gru.cell
    if not cell.reset_after:
        raise ValueError(f"{gru.name}: only reset_after=True GRUs (the Keras default) map to "
                         "ONNX's linear_before_reset GRU")
    if cell.activation.__name__ != "tanh" or cell.recurrent_activation.__name__ != "sigmoid":
        raise ValueError(f"{gru.name}: only tanh / sigmoid activations map to the ONNX GRU")
    kernel = np.asarray(cell.kernel, np.float32)
    recurrent = np.asarray(cell.recurrent_kernel, np.float32)
    units = gru.units
    bias = (np.asarray(cell.bias, np.float32).reshape(2, 3 * units) if cell.use_bias
            else np.zeros((2, 3 * units), np.float32))
    return kernel, recurrent, bias


def _dim(dim):
    return dim.dim_param or dim.dim_value or None
