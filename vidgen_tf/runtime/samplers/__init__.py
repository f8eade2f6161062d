"""Numpy samplers: the loops that turn prepared inputs into video by calling an export's graphs.

A sampler gets its graphs as plain callables, `dict of arrays -> dict of arrays`, so the same
code drives onnxruntime sessions in an app (`VideoGenerator`) and the Keras networks in
training (the sample logger, evaluate and bench). All randomness is drawn before a sampler
runs (`vidgen_tf.noise.sample_noise`), or by the sampler itself with numpy from a seed:
never inside a graph.

| sampler | what it does | used by |
|---|---|---|
| `single_pass` | one call of one graph | the GANs, SimVP |
| `rollout` | a step graph fed the context, then its own predictions | ConvLSTM, PredRNN |
| `latent_rollout` | encoder, step and decoder graphs, a fresh latent per predicted frame | SVG-LP |
"""

from __future__ import annotations

from vidgen_tf.runtime.samplers.latent_rollout import LatentRolloutSampler
from vidgen_tf.runtime.samplers.rollout import RolloutSampler
from vidgen_tf.runtime.samplers.single_pass import SinglePassSampler

SAMPLERS = {SinglePassSampler.name: SinglePassSampler, RolloutSampler.name: RolloutSampler,
            LatentRolloutSampler.name: LatentRolloutSampler}


def predicts_any_length(name: str) -> bool:
    """Whether the sampler called `name` rolls a step graph out frame by frame, so that it
    takes `frames=` (any length within the manifest's bounds) and its graph's output is one
    frame, which it stacks into the video."""
    return name in (RolloutSampler.name, LatentRolloutSampler.name)


def get_sampler(manifest: dict, graphs: dict):
    """The sampler a manifest names, driving `graphs` ({graph name: callable})."""
    spec = manifest["sampler"]
    if spec["name"] not in SAMPLERS:
        from vidgen_tf.runtime.manifest import ManifestError

        raise ManifestError(f"the export needs the sampler {spec['name']!r}, which this "
                            f"vidgen_tf does not have (it has {', '.join(SAMPLERS)}); upgrade "
                            "vidgen_tf")
    return SAMPLERS[spec["name"]](graphs, **spec.get("params", {}))


def session_graph(session):
    """An onnxruntime session as a sampler's graph: `dict -> dict` of numpy arrays, fed only
    the inputs the session has."""
    names = [i.name for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]

    def call(feeds: dict) -> dict:
        return dict(zip(outputs, session.run(outputs, {k: feeds[k] for k in names}),
                        strict=True))

    return call


__all__ = ["SAMPLERS", "LatentRolloutSampler", "RolloutSampler", "SinglePassSampler",
           "get_sampler", "predicts_any_length", "session_graph"]
