"""What a predictor's export holds: its "context" input, its graph (one pass, or one step in
time with the recurrent state as explicit inputs and outputs) and its sampler."""

from __future__ import annotations

from vidgen_tf.export.spec import ExportSpec, GraphSpec
from vidgen_tf.runtime.manifest import MAX_FRAMES_FACTOR

CONTEXT_PREPROCESS = ("uint8 frames; shorter side resized to the frame size (area filter when "
                      "shrinking, bilinear when enlarging), center-cropped, grey as the mean "
                      "of R, G and B for a 1-channel model, then x / 127.5 - 1 (what the "
                      "datasets do); the last `context` frames are used")


def predictor_export_spec(network, context: int, horizon: int, recurrent: bool) -> ExportSpec:
    """The export spec of a predictor network (float32) trained on `context` frames in and
    `horizon` out.

    A single-pass network is one graph, "predictor": context in, `horizon` frames out. A
    recurrent network is one graph, "step", driven by the "rollout" sampler, which predicts
    any number of frames up to `MAX_FRAMES_FACTOR` times the trained horizon. The step takes
    "frame" and each state, and returns "next_frame" and "next_<state>" (ONNX forbids an
    output named like an input).
    """
    size, channels = network.size, network.channels
    frame = [size, size, channels]
    inputs = {"context": {"role": "context", "shape": [context, *frame], "dtype": "float32",
                          "range": [-1.0, 1.0], "preprocess": CONTEXT_PREPROCESS}}
    if not recurrent:
        dims = {"frames": {"default": horizon, "min": horizon, "max": horizon}}
        graph = GraphSpec(network, ["context"], {"video": ["batch", horizon, *frame]})
        return ExportSpec(inputs=inputs, dims=dims, graphs={"predictor": graph},
                          sampler={"name": "single_pass",
                                   "params": {"graph": "predictor", "output": "video"}})
    states = {name: list(shape) for name, shape in network.state_spec().items()}
    input_specs = {"frame": {"shape": frame, "dtype": "float32"},
                   **{name: {"shape": shape, "dtype": "float32"}
                      for name, shape in states.items()}}
    outputs = {"next_frame": ["batch", *frame],
               **{f"next_{name}": ["batch", *shape] for name, shape in states.items()}}
    graph = GraphSpec(network, ["frame", *states], outputs, input_specs=input_specs,
                      output_keys={name: name.removeprefix("next_") for name in outputs})
    dims = {"frames": {"default": horizon, "min": 1, "max": MAX_FRAMES_FACTOR * horizon}}
    return ExportSpec(inputs=inputs, dims=dims, graphs={"step": graph},
                      sampler={"name": "rollout",
                               "params": {"graph": "step", "context": context,
                                          "horizon": horizon, "states": states,
                                          "frame": "frame", "output": "next_frame"}})


def latent_rollout_export_spec(network, context: int, horizon: int,
                               action_names: list[str] | None = None) -> ExportSpec:
    """The export spec of a stochastic predictor (SVGNetwork) for the `latent_rollout`
    sampler: inputs "context", "noise" (a standard normal latent per predicted frame) and,
    for an action-conditioned network, "actions" (an int32 id per predicted frame, of
    `action_names`); graphs "step" (its LSTMs, with their states as inputs and
    "next_<state>" outputs; a one-hot "action" with actions), "encoder" and "decoder". It
    predicts up to `MAX_FRAMES_FACTOR` times `horizon`."""
    size, channels = network.size, network.channels
    frame = [size, size, channels]
    step, encoder = network.step, network.encoder
    inputs = {"context": {"role": "context", "shape": [context, *frame], "dtype": "float32",
                          "range": [-1.0, 1.0], "preprocess": CONTEXT_PREPROCESS},
              "noise": {"role": "noise", "shape": ["frames", step.z_dim], "dtype": "float32",
                        "distribution": "normal"}}
    if step.num_actions:
        inputs["actions"] = {"role": "actions", "shape": ["frames"], "dtype": "int32",
                             "action_names": list(action_names)}
    states = {name: list(shape) for name, shape in step.state_spec().items()}
    skips = {name: list(shape) for name, shape in encoder.skip_shapes().items()}
    vector = {**{name: [width] for name, width in step.input_sizes().items()}, **states}
    step_graph = GraphSpec(
        step, sorted(vector),
        {"h_pred": ["batch", step.g_dim], **{f"next_{n}": ["batch", *s]
                                             for n, s in states.items()}},
        input_specs={name: {"shape": shape, "dtype": "float32"}
                     for name, shape in vector.items()},
        output_keys={f"next_{n}": n for n in states})
    encoder_graph = GraphSpec(
        encoder, ["frame"], {"h": ["batch", step.g_dim],
                             **{n: ["batch", *s] for n, s in skips.items()}},
        input_specs={"frame": {"shape": frame, "dtype": "float32"}})
    decoder_graph = GraphSpec(
        network.decoder, ["h_pred", *skips], {"frame": ["batch", *frame]},
        input_specs={"h_pred": {"shape": [step.g_dim], "dtype": "float32"},
                     **{n: {"shape": s, "dtype": "float32"} for n, s in skips.items()}})
    dims = {"frames": {"default": horizon, "min": 1, "max": MAX_FRAMES_FACTOR * horizon}}
    return ExportSpec(inputs=inputs, dims=dims,
                      graphs={"step": step_graph, "encoder": encoder_graph,
                              "decoder": decoder_graph},
                      sampler={"name": "latent_rollout",
                               "params": {"context": context, "horizon": horizon,
                                          "states": states, "z_dim": step.z_dim,
                                          "skips": sorted(skips), "graph": "decoder",
                                          "output": "frame",
                                          **({"actions": "actions",
                                              "num_actions": step.num_actions}
                                             if step.num_actions else {})}})
