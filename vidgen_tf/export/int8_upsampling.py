"""int8 export of a DCGAN-style upsampling stack, channels-last from end to end.

The image generators of the GAN families end in a chain of stride-2 transposed convolutions
(kernel 4, padding 1) with ReLU between them and tanh at the end. onnxruntime's generic int8
path (static QDQ quantization) ran this chain at 45 videos/s on the AMD EPYC here: the int8
convolutions themselves took 6 of its 22 ms, the rest went to layout changes (NCHW <-> NHWC
transposes around every int8 conv), phase slicing and DepthToSpace.

This module replaces the chain by one built for int8 and NHWC:

- each layer is four kernel-2 `com.microsoft.QLinearConv` (channels_last=1), one per output
  phase, each padded so that it yields exactly H x W (the phase identity of onnx_rewrite);
  the narrow RGB layer is one QLinearConv with the four phases as 12 outputs (its int8 conv
  took as long as a wide one: 0.9 ms each for 3 outputs, 1.0 ms for 12), interleaved by one
  Transpose and a crop;
- ReLU is the uint8 saturation of an output range that starts at 0 (zero point 0);
- the phases are interleaved in NHWC by Concat + Reshape, which copies whole channel vectors;
- the last layer's output is dequantized, then tanh, and is already channels-last. Its uint8
  range is capped at [-4, 4], where tanh already rounds to the extreme pixel values.

The float graph up to the chain (GRU, projection) stays float32. Activation ranges come from
running the float graph on calibration noise; weights are int8 per output channel.
"""

from __future__ import annotations

import numpy as np

from vidgen_tf.export.onnx_rewrite import (
    conv_transpose_params,
    drop_unused_initializers,
    interleave_nhwc,
    is_upsampling_conv_transpose,
    phase_kernel,
    run_with_outputs,
)

MS_DOMAIN = "com.microsoft"
# (1 + tanh(4)) * 127.5 = 254.91 rounds to 255, like every larger logit.
TANH_SATURATION = 4.0
# Layers with fewer output channels (the RGB layer) compute their four phases in one conv.
MERGED_PHASES_BELOW = 16


def find_chain(model) -> dict | None:
    """The upsampling chain of a float ONNX generator graph, or None when it has none.

    Expects Transpose(NHWC->NCHW) -> ConvTranspose [-> Relu -> ConvTranspose]* -> Tanh ->
    Transpose(NCHW->NHWC), every ConvTranspose with kernel 4, stride 2, padding 1.
    """
    from onnx import helper

    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def only_consumer(name):
        users = consumers.get(name, [])
        return users[0] if len(users) == 1 else None

    first = next((n for n in graph.node if n.op_type == "ConvTranspose"), None)
    if first is None:
        return None
    entry = producer.get(first.input[0])
    if entry is None or entry.op_type != "Transpose" or _perm(entry, helper) != [0, 3, 1, 2]:
        return None
    layers, node, removed = [], first, [entry]
    while True:
        if node is None or not is_upsampling_conv_transpose(node, inits):
            return None
        weight, bias = conv_transpose_params(node, inits)
        removed.append(node)
        nxt = only_consumer(node.output[0])
        if nxt is not None and nxt.op_type == "Relu":
            removed.append(nxt)
            layers.append({"weight": weight, "bias": bias, "relu": True,
                           "output": nxt.output[0]})
            node = only_consumer(nxt.output[0])
            continue
        if nxt is None or nxt.op_type != "Tanh":
            return None
        layers.append({"weight": weight, "bias": bias, "relu": False,
                       "output": node.output[0]})
        removed.append(nxt)
        exit_node = only_consumer(nxt.output[0])
        if (exit_node is None or exit_node.op_type != "Transpose"
                or _perm(exit_node, helper) != [0, 2, 3, 1]):
            return None
        removed.append(exit_node)
        return {"input": entry.input[0], "output": exit_node.output[0], "layers": layers,
                "removed": removed}


def quantize_chain(model, chain: dict, calibration: list[dict]) -> None:
    """Replace `chain` in `model` (in place) by its int8 channels-last version, with
    activation ranges measured by running the float model on `calibration` feeds."""
    from onnx import helper, numpy_helper

    ranges, height = _activation_ranges(model, chain, calibration)
    graph = model.graph
    nodes, inits = [], []

    def const(name, value):
        inits.append(numpy_helper.from_array(value, name))
        return name

    low, high = ranges[chain["input"]]
    scale, zero = _uint8_params(low, high)
    current = "int8/input"
    nodes.append(helper.make_node("QuantizeLinear", [
        chain["input"], const("int8/input/scale", scale), const("int8/input/zero", zero)],
        [current], name="int8/input"))
    for index, layer in enumerate(chain["layers"]):
        prefix = f"int8/up{index}"
        out_low, out_high = ranges[layer["output"]]
        if layer["relu"]:
            out_low = 0.0
        else:  # tanh follows: beyond +-4 it rounds to the same uint8 pixel, so spend the
            # 256 levels on [-4, 4] (a step of 0.03 instead of up to 0.2 on calibrated ranges)
            out_low, out_high = max(out_low, -TANH_SATURATION), min(out_high, TANH_SATURATION)
        out_scale, out_zero = _uint8_params(out_low, out_high)
        weight, bias = layer["weight"], layer["bias"]  # (Cin, Cout, 4, 4), (Cout,)
        qconv = _qconv_factory(nodes, const, current, index, prefix, scale)
        const(f"int8/up{index}/x_scale", np.float32(scale))
        const(f"int8/up{index}/x_zero", zero)
        const(f"{prefix}/y_scale", np.float32(out_scale))
        const(f"{prefix}/y_zero", out_zero)
        if weight.shape[1] < MERGED_PHASES_BELOW:
            current = _merged_interleaved(nodes, const, qconv, weight, bias, prefix, height)
        else:
            phases = {(a, b): qconv(f"{prefix}/phase{a}{b}", phase_kernel(weight, a, b), bias,
                                    [1 - a, 1 - b, a, b])
                      for a in range(2) for b in range(2)}
            current = interleave_nhwc(nodes, const, phases, prefix, weight.shape[1], height)
        height *= 2
        scale, zero = out_scale, out_zero
    nodes.append(helper.make_node("DequantizeLinear", [
        current, const("int8/output/scale", np.float32(scale)),
        const("int8/output/zero", zero)], ["int8/output/logits"], name="int8/output"))
    nodes.append(helper.make_node("Tanh", ["int8/output/logits"], [chain["output"]],
                                  name="int8/output/tanh"))

    removed = {id(n) for n in chain["removed"]}
    kept = [n for n in graph.node if id(n) not in removed]
    # The chain's input is computed before it and its output used after it: insert in place.
    position = next(i for i, n in enumerate(kept) if chain["output"] in n.input)
    del graph.node[:]
    graph.node.extend(kept[:position] + nodes + kept[position:])
    graph.initializer.extend(inits)
    drop_unused_initializers(graph)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))


def _qconv_factory(nodes, const, source, index, prefix, x_scale):
    """A function adding one channels-last QLinearConv of layer `index` on `source` (kernel 2,
    int8 weights per output channel, int32 bias) and returning its output name."""
    from onnx import helper

    def qconv(name, kernel, bias, pads):
        w_scale = np.maximum(np.abs(kernel).max(axis=(1, 2, 3)), 1e-12) / 127.0
        w_q = np.clip(np.rint(kernel / w_scale[:, None, None, None]), -127, 127)
        b_q = np.rint(bias / (x_scale * w_scale)).astype(np.int32)
        nodes.append(helper.make_node(
            "QLinearConv", [
                source, f"int8/up{index}/x_scale", f"int8/up{index}/x_zero",
                const(f"{name}/w", w_q.astype(np.int8)),
                const(f"{name}/w_scale", w_scale.astype(np.float32)),
                const(f"{name}/w_zero", np.zeros(len(w_scale), np.int8)),
                f"{prefix}/y_scale", f"{prefix}/y_zero",
                const(f"{name}/b", b_q)],
            [name], domain=MS_DOMAIN, channels_last=1, kernel_shape=[2, 2], pads=pads,
            name=name))
        return name

    return qconv


def _merged_interleaved(nodes, const, qconv, weight, bias, prefix, height) -> str:
    """A narrow layer (the RGB one), interleaved: one QLinearConv computes the four phases as
    4 x Cout outputs over H + 1 rows and columns (padding 1 all round), and one Transpose plus
    a crop interleave them. Returns the output's name.

    onnxruntime's int8 conv costs about the same at 3 outputs as at 12, so this is one conv's
    time instead of four. Phase a of output row r = 2i + a sits at row i + a of the merged
    output. Ordering the phases (1, 0) along each axis makes the merged rows, read as pairs,
    the output rows -1, 0, 1, 2, ..., 2H: so a depth-to-space of all H + 1 rows, cropped by
    one row at each end, is the layer's output. (Four Slices, one per phase, then the Concat
    interleave took 1.1 ms against 0.6 ms for this on 16 frames of 64x64.)
    """
    from onnx import helper

    cout = weight.shape[1]
    kernel = np.concatenate([phase_kernel(weight, 1 - a, 1 - b) for a in range(2)
                             for b in range(2)])
    merged = qconv(f"{prefix}/phases", kernel, np.tile(bias, 4), [1, 1, 1, 1])
    # (N, H + 1, W + 1, [row phase, column phase, C]) -> (N, H + 1, row phase, W + 1, ...)
    split = f"{prefix}/split"
    nodes.append(helper.make_node("Reshape", [merged, const(f"{prefix}/split_shape", np.array(
        [0, 0, 0, 2, 2 * cout], np.int64))], [split], name=split))
    moved = f"{prefix}/moved"
    nodes.append(helper.make_node("Transpose", [split], [moved], perm=[0, 1, 3, 2, 4],
                                  name=moved))
    grid = f"{prefix}/grid"
    nodes.append(helper.make_node("Reshape", [moved, const(f"{prefix}/grid_shape", np.array(
        [0, 2 * height + 2, -1, cout], np.int64))], [grid], name=grid))
    out = f"{prefix}/interleaved"
    nodes.append(helper.make_node("Slice", [
        grid, const(f"{prefix}/crop_starts", np.array([1, 1], np.int64)),
        const(f"{prefix}/crop_ends", np.array([-1, -1], np.int64)),
        const(f"{prefix}/crop_axes", np.array([1, 2], np.int64))], [out], name=out))
    return out


def _uint8_params(low: float, high: float) -> tuple[np.float32, np.uint8]:
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    scale = max(high - low, 1e-8) / 255.0
    zero = int(np.clip(np.rint(-low / scale), 0, 255))
    return np.float32(scale), np.uint8(zero)


def _activation_ranges(model, chain: dict, calibration: list[dict]) -> tuple[dict, int]:
    """(low, high) of the chain's input and of every layer's output on the calibration feeds,
    and the chain's input height."""
    names = [chain["input"]] + [layer["output"] for layer in chain["layers"]]
    runs = run_with_outputs(model, names, calibration)
    ranges = {name: (min(float(values[i].min()) for values in runs),
                     max(float(values[i].max()) for values in runs))
              for i, name in enumerate(names)}
    return ranges, int(runs[0][0].shape[1])  # the chain's input is NHWC


def _perm(node, helper) -> list:
    attrs = {a.name: a for a in node.attribute}
    return list(helper.get_attribute_value(attrs["perm"])) if "perm" in attrs else []
