"""What an export holds, worked out from a trained network: its inputs (with roles), its graphs
and its sampler (the design's "export spec"), and example inputs to check them with.

A GAN generator exports one graph, "generator", driven by the "single_pass" sampler. Its
inputs are its named noise (`noise_spec()`, role "noise"; the paper's category code is role
"label") and its conditions (`condition_spec()`: "label", "text", "first_frame"). Shapes use
the named dimensions "frames" (an input whose length sets the clip's) and "tokens" (a prompt).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from vidgen_tf.noise import sample_noise
from vidgen_tf.runtime.manifest import MAX_FRAMES_FACTOR
from vidgen_tf.runtime.tokenizer import TOKENIZER_NAME

FIRST_FRAME_PREPROCESS = ("uint8 RGB; shorter side resized to the frame size (area filter when "
                          "shrinking, bilinear when enlarging), center-cropped, then "
                          "x / 127.5 - 1 (what the datasets do)")


@dataclasses.dataclass
class GraphSpec:
    """One graph of an export: a Keras network called on a dict of named inputs.

    Attributes:
        network: the float32 network (e.g. the generator).
        inputs: the graph's input names: the export's inputs, or its own `input_specs`.
        outputs: {output name: shape with "batch" and named dimensions}.
        input_specs: {name: {"shape", "dtype"}} of inputs that only the sampler feeds (a
            step graph's frame and recurrent states), not the app.
    """

    network: object
    inputs: list[str]
    outputs: dict[str, list]
    input_specs: dict[str, dict] = dataclasses.field(default_factory=dict)
    # {output name: the network's output key} where they differ: ONNX forbids an output
    # named like an input, so a step graph's "frame" and state outputs are "next_<name>".
    output_keys: dict[str, str] = dataclasses.field(default_factory=dict)

    def network_outputs(self, out) -> dict:
        """The graph's outputs, by output name, from what the network returned."""
        if not isinstance(out, dict):
            return {next(iter(self.outputs)): out}
        return {name: out[self.output_keys.get(name, name)] for name in self.outputs}

    def input_spec(self, spec: ExportSpec, name: str) -> dict:
        return self.input_specs.get(name) or spec.inputs[name]

    def keras_call(self, feeds: dict) -> dict:
        """The network in inference mode as `dict -> dict` (for the samplers)."""
        out = self.network_outputs(self.network({k: feeds[k] for k in self.inputs},
                                                training=False))
        return {k: np.asarray(v, np.float32) for k, v in out.items()}


@dataclasses.dataclass
class ExportSpec:
    inputs: dict[str, dict]
    dims: dict[str, dict]
    graphs: dict[str, GraphSpec]
    sampler: dict
    assets: dict[str, dict] = dataclasses.field(default_factory=dict)  # name -> JSON content


def generator_export_spec(generator, class_names: list[str] | None = None,
                          vocabulary: list[str] | None = None, max_tokens: int = 0
                          ) -> ExportSpec:
    """The export spec of a GAN generator (see the module docstring)."""
    frames = generator.frames
    inputs: dict[str, dict] = {}
    for name, item in sorted(generator.noise_spec().items()):
        shape = list(item["shape"])
        if item.get("time_axis") == 0:
            shape[0] = "frames"
        entry = {"role": "noise", "shape": shape, "dtype": item["dtype"],
                 "distribution": item["distribution"]}
        if item["distribution"] == "categorical":  # the paper's category code
            entry.update(role="label", num_classes=item["num_classes"], optional=True,
                         class_names=list(class_names or []))
        inputs[name] = entry
    conditions = getattr(generator, "condition_spec", dict)()
    for name, item in sorted(conditions.items()):
        entry = {"role": item["role"], "shape": list(item["shape"]), "dtype": item["dtype"],
                 "optional": item["role"] == "label"}
        if item["role"] == "label":  # drawn uniformly when not given
            entry.update(distribution="categorical", num_classes=item["num_classes"],
                         class_names=list(class_names or []))
        elif item["role"] == "text":
            entry.update(tokenizer=TOKENIZER_NAME, vocab_size=item["vocab_size"])
        elif item["role"] == "first_frame":
            entry.update(range=[-1.0, 1.0], preprocess=FIRST_FRAME_PREPROCESS)
        inputs[name] = entry
    variable = any("frames" in item["shape"] for item in inputs.values())
    dims = {"frames": {"default": frames, "min": 1 if variable else frames,
                       "max": MAX_FRAMES_FACTOR * frames if variable else frames}}
    assets = {}
    if any(item["role"] == "text" for item in inputs.values()):
        from vidgen_tf.runtime.tokenizer import WordTokenizer

        dims["tokens"] = {"min": 1, "max": max_tokens}
        assets[TOKENIZER_NAME] = WordTokenizer(vocabulary, max_tokens).to_json()
    video = ["batch", "frames", generator.size, generator.size, generator.channels]
    graph = GraphSpec(generator, sorted(inputs), {"video": video})
    return ExportSpec(inputs=inputs, dims=dims, graphs={"generator": graph},
                      sampler={"name": "single_pass",
                               "params": {"graph": "generator", "output": "video"}},
                      assets=assets)


def example_inputs(spec: ExportSpec, num: int, seed: int, frames: int | None = None
                   ) -> dict[str, np.ndarray]:
    """Inputs to check an export on: drawn noise and labels, random conditions (word ids
    of the vocabulary, first frames and contexts uniform in [-1, 1], action ids uniform), and
    the sampler-fed inputs of every graph (a step graph's frame uniform in [-1, 1], its
    states N(0, 0.5))."""
    default = spec.dims["frames"]["default"]
    feeds = sample_noise(spec.inputs, num, seed, frames=frames, default_frames=default)
    rng = np.random.default_rng(seed + 7919)
    for name, item in spec.inputs.items():
        if item["role"] == "text":
            tokens = spec.dims["tokens"]["max"]
            ids = rng.integers(1, item["vocab_size"], (num, tokens))
            ids[:, tokens // 2 + 1:] = 0  # padding, as short prompts have
            feeds[name] = ids.astype(item["dtype"])
        elif item["role"] in ("first_frame", "context"):
            feeds[name] = rng.uniform(-1, 1, (num, *item["shape"])).astype(item["dtype"])
        elif item["role"] == "actions":
            ids = rng.integers(0, len(item["action_names"]), (num, frames or default))
            feeds[name] = ids.astype(item["dtype"])
    for graph in spec.graphs.values():
        for name, item in sorted(graph.input_specs.items()):
            if name == "frame":
                value = rng.uniform(-1, 1, (num, *item["shape"]))
            else:
                value = 0.5 * rng.standard_normal((num, *item["shape"]))
            feeds[name] = value.astype(item["dtype"])
    return feeds


def input_signature(spec: ExportSpec, graph: str) -> list:
    """One named TensorSpec per graph input, sorted by name: a dynamic batch, and a dynamic
    axis for every named dimension."""
    import tensorflow as tf

    specs = []
    for name in spec.graphs[graph].inputs:
        item = spec.graphs[graph].input_spec(spec, name)
        shape = [None] + [None if isinstance(d, str) else d for d in item["shape"]]
        specs.append(tf.TensorSpec(shape, item["dtype"], name=name))
    return specs


def serving_function(spec: ExportSpec, graph: str):
    """A graph's network in inference mode (BatchNorm on moving statistics) as a tf.function
    of its named inputs, and its signature."""
    import tensorflow as tf

    signature = input_signature(spec, graph)
    names = [s.name for s in signature]
    graph_spec = spec.graphs[graph]

    @tf.function(input_signature=signature)
    def serve(*inputs):
        return graph_spec.network_outputs(
            graph_spec.network(dict(zip(names, inputs, strict=True)), training=False))

    return serve, signature
