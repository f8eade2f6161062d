"""Rewrite stride-2 transposed convolutions of an ONNX graph as convolutions (same outputs).

A ConvTranspose with kernel 4, stride 2 and padding 1 (every upsampling layer of the DCGAN-style
generators) equals a kernel-2 Conv with 4x the output channels, one block per output phase
(row parity a, column parity b), followed by interleaving the phases (DepthToSpace):

    out[2i + a, 2j + b] = sum_{dy, dx in {0, 1}} x_pad[i + a + dy, j + b + dx]
                          * W[:, :, 3 - a - 2 dy, 3 - b - 2 dx]

with x padded by 1. It does the same multiply-adds, but onnxruntime runs Conv much faster than
ConvTranspose on CPU (blocked NCHWc kernels), and only Conv has a fused int8 kernel (VNNI),
which is what makes `--quantize int8` fast.

Interleaving the phases back into one image is where the two forms differ (`interleave`):

- "depth_to_space": one Conv for all four phases (over H + 1 rows and columns), Slice,
  Concat and DepthToSpace, all NCHW. DepthToSpace moves single floats (stride 2 in the
  innermost axis), which is slow on some CPUs.
- "channels_last": four exact Convs, one per phase, each transposed to NHWC, then Concat +
  Reshape, which copy whole channel vectors, and one Transpose back to NCHW. onnxruntime
  folds each phase's NHWC Transpose into the reorder out of its blocked Conv layout
  (ReorderOutput with channels_last), so only the Transpose back costs a pass.

Per-channel Mul/Add after the layer (inference BatchNorm) are folded into the weights first,
and a following Relu moves onto the Conv, where onnxruntime fuses it. The export's parity
check runs on the rewritten graph.
"""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

# Layers whose input is smaller than this (height) stay ConvTranspose: measured slower as Conv.
MIN_INPUT_SIZE = 8
# Layers with fewer output channels stay ConvTranspose (the RGB layer): likewise.
MIN_OUTPUT_CHANNELS = 16
# How the four phases are put back together (module docstring).
INTERLEAVES = ("depth_to_space", "channels_last")


def rewrite_conv_transposes(model, sample_inputs: dict, min_input_size: int = MIN_INPUT_SIZE,
                            min_output_channels: int = MIN_OUTPUT_CHANNELS,
                            interleave: str = "depth_to_space") -> int:
    """Rewrite eligible ConvTranspose nodes of `model` (an onnx.ModelProto) in place.

    `sample_inputs` (one batch of the graph's inputs) serves to find each layer's input size.
    A ConvTranspose that stays (too small) still absorbs the per-channel Mul / Add after it.
    `interleave` ("depth_to_space" or "channels_last") chooses how the phases are put back
    together (module docstring). Returns the number of nodes rewritten.
    """
    import onnx
    from onnx import numpy_helper

    if interleave not in INTERLEAVES:
        raise ValueError(f"interleave must be one of {', '.join(INTERLEAVES)}; "
                         f"received {interleave!r}")
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    shapes = _input_heights(model, sample_inputs)
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph_outputs = {o.name for o in graph.output}

    rewritten = 0
    new_nodes = []
    removed = set()
    for node in list(graph.node):
        if id(node) in removed:
            continue
        if not is_upsampling_conv_transpose(node, inits):
            new_nodes.append(node)
            continue
        weight, bias = conv_transpose_params(node, inits)  # (Cin, Cout, 4, 4), (Cout,)
        cout = weight.shape[1]
        height = shapes.get(node.input[0])
        as_conv = cout >= min_output_channels and height is not None and height >= min_input_size
        # Fold per-channel Mul / Add (inference BatchNorm); a Conv also takes over a Relu.
        weight, bias, output, relu = _absorb_affine(node, weight, bias, consumers, inits,
                                                    graph_outputs, removed, take_relu=as_conv)
        if not as_conv:
            if output != node.output[0]:  # keep the ConvTranspose, with the folded weights
                prefix = f"{node.name or output}/folded"
                graph.initializer.extend([numpy_helper.from_array(weight, f"{prefix}/kernel"),
                                          numpy_helper.from_array(bias, f"{prefix}/bias")])
                inputs = [node.input[0], f"{prefix}/kernel", f"{prefix}/bias"]
                del node.input[:]
                node.input.extend(inputs)
                node.output[0] = output
            new_nodes.append(node)
            continue

        prefix = f"{node.name or output}/as_conv"
        if interleave == "depth_to_space":
            new_nodes.extend(_phases_depth_to_space(graph, prefix, node.input[0], weight, bias,
                                                    relu, output))
        else:
            new_nodes.extend(_phases_channels_last(graph, prefix, node.input[0], weight, bias,
                                                   relu, output, height))
        rewritten += 1
    if rewritten or removed:
        del graph.node[:]
        graph.node.extend(n for n in new_nodes if id(n) not in removed)
        drop_unused_initializers(graph)
        onnx.checker.check_model(model)
    return rewritten


def _phases_depth_to_space(graph, prefix, source, weight, bias, relu, output) -> list:
    """One kernel-2 Conv for all four phases over H + 1 rows and columns, Slice each phase,
    Concat, DepthToSpace (NCHW throughout)."""
    from onnx import helper, numpy_helper

    cout = weight.shape[1]
    kernel = np.concatenate([phase_kernel(weight, a, b) for a in range(2) for b in range(2)])
    graph.initializer.extend([
        numpy_helper.from_array(kernel, f"{prefix}/kernel"),
        numpy_helper.from_array(np.tile(bias, 4), f"{prefix}/bias"),
    ])
    conv_out = f"{prefix}/conv"
    nodes = [helper.make_node("Conv", [source, f"{prefix}/kernel", f"{prefix}/bias"], [conv_out],
                              kernel_shape=[2, 2], pads=[1, 1, 1, 1], name=f"{prefix}/conv")]
    if relu:
        nodes.append(helper.make_node("Relu", [conv_out], [f"{prefix}/relu"],
                                      name=f"{prefix}/relu"))
        conv_out = f"{prefix}/relu"
    phases = []
    for a in range(2):
        for b in range(2):
            k = a * 2 + b
            # Phase a reads conv rows a .. a + H - 1 of H + 1: drop the last row (a = 0)
            # or the first (a = 1); likewise for columns.
            starts = [k * cout, a, b]
            ends = [(k + 1) * cout, -1 if a == 0 else 2**31 - 1, -1 if b == 0 else 2**31 - 1]
            names = [f"{prefix}/phase{k}_{part}" for part in ("starts", "ends", "axes")]
            graph.initializer.extend([
                numpy_helper.from_array(np.array(starts, np.int64), names[0]),
                numpy_helper.from_array(np.array(ends, np.int64), names[1]),
                numpy_helper.from_array(np.array([1, 2, 3], np.int64), names[2]),
            ])
            phases.append(f"{prefix}/phase{k}")
            nodes.append(helper.make_node("Slice", [conv_out, *names], [phases[-1]],
                                          name=phases[-1]))
    nodes.append(helper.make_node("Concat", phases, [f"{prefix}/phases"], axis=1,
                                  name=f"{prefix}/concat"))
    nodes.append(helper.make_node("DepthToSpace", [f"{prefix}/phases"], [output], blocksize=2,
                                  mode="DCR", name=f"{prefix}/interleave"))
    return nodes


def _phases_channels_last(graph, prefix, source, weight, bias, relu, output, height) -> list:
    """Four exact kernel-2 Convs (one per phase, padded to give H x W), each to NHWC; the
    phases interleaved by Concat + Reshape in NHWC; one Transpose back to NCHW."""
    from onnx import helper, numpy_helper

    def const(name, value):
        graph.initializer.append(numpy_helper.from_array(value, name))
        return name

    nodes, phases = [], {}
    for a in range(2):
        for b in range(2):
            name = f"{prefix}/phase{a}{b}"
            # Phase (a, b) reads x rows i - 1 + a .. i + a: pad 1 - a before and a after.
            nodes.append(helper.make_node(
                "Conv", [source, const(f"{name}/kernel", phase_kernel(weight, a, b)),
                         const(f"{name}/bias", bias)],
                [f"{name}/conv"], kernel_shape=[2, 2], pads=[1 - a, 1 - b, a, b],
                name=f"{name}/conv"))
            phase = f"{name}/conv"
            if relu:
                nodes.append(helper.make_node("Relu", [phase], [f"{name}/relu"],
                                              name=f"{name}/relu"))
                phase = f"{name}/relu"
            nodes.append(helper.make_node("Transpose", [phase], [f"{name}/nhwc"],
                                          perm=[0, 2, 3, 1], name=f"{name}/nhwc"))
            phases[a, b] = f"{name}/nhwc"
    image = interleave_nhwc(nodes, const, phases, prefix, weight.shape[1], height)
    nodes.append(helper.make_node("Transpose", [image], [output], perm=[0, 3, 1, 2],
                                  name=f"{prefix}/nchw"))
    return nodes


def interleave_nhwc(nodes, const, phases, prefix, channels, height) -> str:
    """Append to `nodes` out[n, 2i + a, 2j + b, c] = phase_ab[n, i, j, c] for the NHWC phase
    tensors `phases[a, b]` (any dtype): Concat of whole channel vectors and free reshapes.
    `const(name, value)` adds an initializer and returns its name. Returns the output's name."""
    from onnx import helper

    rows = []
    for a in range(2):
        row = f"{prefix}/row{a}"
        # (N, H, W, 2C) -> (N, H, 1, 2W, C): phase b sits at column 2j + b.
        nodes.append(helper.make_node("Concat", [phases[a, 0], phases[a, 1]], [row + "/cat"],
                                      axis=3, name=row + "/cat"))
        nodes.append(helper.make_node("Reshape", [
            row + "/cat", const(row + "/shape", np.array([0, 0, 1, -1, channels], np.int64))],
            [row], name=row))
        rows.append(row)
    both, out = f"{prefix}/rows", f"{prefix}/interleaved"
    nodes.append(helper.make_node("Concat", rows, [both], axis=2, name=both))  # (N, H, 2, 2W, C)
    nodes.append(helper.make_node("Reshape", [  # -> (N, 2H, 2W, C); 0 keeps the batch
        both, const(f"{prefix}/shape", np.array([0, 2 * height, -1, channels], np.int64))],
        [out], name=out))
    return out


def _absorb_affine(node, weight, bias, consumers, inits, graph_outputs, removed, take_relu):
    """Fold the per-channel Mul / Add nodes that follow `node` into its weight (Cin, Cout, k, k)
    and bias; with `take_relu`, also absorb one following Relu. Returns (weight, bias, the
    last absorbed output, whether a Relu was absorbed); absorbed nodes go into `removed`."""
    cout = weight.shape[1]
    output, relu = node.output[0], False
    while output not in graph_outputs and len(consumers.get(output, [])) == 1:
        nxt = consumers[output][0]
        if nxt.op_type in ("Mul", "Add"):
            const = _per_channel(nxt, output, inits, cout)
            if const is None:
                break
            if nxt.op_type == "Mul":
                weight = weight * const[None, :, None, None]
                bias = bias * const
            else:
                bias = bias + const
        elif nxt.op_type == "Relu" and take_relu:
            relu = True
        else:
            break
        removed.add(id(nxt))
        output = nxt.output[0]
        if relu:
            break
    return weight, bias, output, relu


def phase_kernel(weight: np.ndarray, a: int, b: int) -> np.ndarray:
    """The kernel-2 Conv weight (Cout, Cin, 2, 2) of output phase (a, b) of a kernel-4,
    stride-2 ConvTranspose weight (Cin, Cout, 4, 4): W[:, :, 3 - a - 2 dy, 3 - b - 2 dx]."""
    return np.ascontiguousarray(
        weight[:, :, [3 - a, 1 - a]][:, :, :, [3 - b, 1 - b]].transpose(1, 0, 2, 3))


def conv_transpose_params(node, inits) -> tuple[np.ndarray, np.ndarray]:
    """A ConvTranspose's float32 weight (Cin, Cout, kh, kw) and bias (zeros when it has none)."""
    from onnx import numpy_helper

    weight = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
    bias = (numpy_helper.to_array(inits[node.input[2]]).astype(np.float32)
            if len(node.input) > 2 and node.input[2] else np.zeros(weight.shape[1], np.float32))
    return weight, bias


def run_with_outputs(model, names: list[str], feeds_list: list[dict]) -> list[list]:
    """Values of the intermediate tensors `names`, one list per feed dict, from a copy of
    `model` that also outputs them."""
    import onnx
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.extend(onnx.ValueInfoProto(name=name) for name in names)
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    return [session.run(names, feeds) for feeds in feeds_list]


def is_upsampling_conv_transpose(node, inits) -> bool:
    """A ConvTranspose with kernel 4, stride 2, padding 1 and constant weights."""
    if node.op_type != "ConvTranspose" or node.input[1] not in inits:
        return False
    if len(node.input) > 2 and node.input[2] and node.input[2] not in inits:
        return False
    attrs = {a.name: a for a in node.attribute}
    from onnx import helper

    def get(name, default):
        return list(helper.get_attribute_value(attrs[name])) if name in attrs else default

    if list(inits[node.input[1]].dims[2:]) != [4, 4]:
        return False
    return (get("strides", [1, 1]) == [2, 2] and get("pads", [0, 0, 0, 0]) == [1, 1, 1, 1]
            and get("dilations", [1, 1]) == [1, 1] and get("output_padding", [0, 0]) == [0, 0]
            and (helper.get_attribute_value(attrs["group"]) if "group" in attrs else 1) == 1
            and "output_shape" not in attrs
            and (helper.get_attribute_value(attrs["auto_pad"]) if "auto_pad" in attrs
                 else b"NOTSET") == b"NOTSET")


def _per_channel(node, source: str, inits, channels: int):
    """The per-channel constant of a Mul/Add applied to `source` (NCHW), or None."""
    from onnx import numpy_helper

    other = node.input[1] if node.input[0] == source else node.input[0]
    if other not in inits:
        return None
    value = numpy_helper.to_array(inits[other]).astype(np.float32)
    if value.size == 1:
        return np.full(channels, float(value.reshape(())), np.float32)
    if value.shape in ((channels,), (1, channels, 1, 1), (channels, 1, 1)):
        return value.reshape(channels)
    return None


def _input_heights(model, sample_inputs: dict) -> dict[str, int]:
    """Heights (NCHW dim 2) of the ConvTranspose inputs, measured by running the graph
    (shape inference cannot see through the reshapes)."""
    names = [n.input[0] for n in model.graph.node if n.op_type == "ConvTranspose"]
    if not names:
        return {}
    values = run_with_outputs(model, names, [sample_inputs])[0]
    return {name: value.shape[2] for name, value in zip(names, values, strict=True)
            if value.ndim == 4}


def drop_unused_initializers(graph) -> None:
    used = {name for node in graph.node for name in node.input}
    for attr_graph in _subgraphs(graph):
        used |= {name for node in attr_graph.node for name in node.input}
    keep = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)


def _subgraphs(graph):
    for node in graph.node:
        for attr in node.attribute:
            if attr.g.node:
                yield attr.g
                yield from _subgraphs(attr.g)
            for g in attr.graphs:
                yield g
                yield from _subgraphs(g)
