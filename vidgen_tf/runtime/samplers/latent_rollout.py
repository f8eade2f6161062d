"""The latent rollout sampler: a stochastic predictor (SVG-LP) driven frame by frame through
its encoder, step and decoder graphs, with a fresh latent at every predicted frame."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class LatentRolloutSampler:
    """Encodes the context, conditions the step graph on it, then predicts frame after frame.

    Graphs (each `dict -> dict` of arrays):
        encoder: {"frame"} -> {"h", "skip_0", ...}.
        step: {"h", "h_target", "eps", "posterior", **states} -> {"h_pred",
            "next_<state>", ...}. With "posterior" 1, the latent is the posterior's mean for
            the encoding "h_target" of the next given frame; with 0, it is drawn from the
            learned prior as mean + exp(logvar / 2) "eps".
        decoder: {"h_pred", "skip_0", ...} -> {"frame"}.

    The states start at zero. For each pair of consecutive context frames the step sees the
    first and, through the posterior, the second. Then each predicted frame comes from the
    prior with the next row of the "noise" input (standard normal `(batch, frames, z_dim)`,
    drawn by the caller from its seed), is decoded with the skips of the last context frame,
    and is encoded again as the next step's input. An action-conditioned model (`actions`
    names its int32 input `(batch, frames)`, one id per predicted frame) feeds the step graph
    the one-hot "action" of each predicted frame; it starts from one context frame.

    Args:
        graphs: {"encoder", "step", "decoder"} callables.
        context: int >= 1. Context frames the model takes (a longer one is cut to its last).
        horizon: int >= 1. Frames predicted when `frames` is not given.
        states: {state name: shape}. z_dim: int, the latent's width.
        skips: the encoder outputs the decoder takes besides "h_pred".
        input, noise: names of the prepared inputs holding the context `(batch, frames,
            height, width, channels)` in [-1, 1] and the noise.
        graph, output: the decoder graph's name and its frame output.
        actions, num_actions: the actions input's name and the number of actions, or None
            and 0 for a model without actions.

    Example:
        >>> enc = lambda x: {"h": x["frame"].reshape(len(x["frame"]), -1), "skip_0": x["frame"]}
        >>> step = lambda x: {"h_pred": x["h"] + x["eps"], "next_s": x["s"]}
        >>> dec = lambda x: {"frame": x["h_pred"].reshape(x["skip_0"].shape)}
        >>> sampler = LatentRolloutSampler({"encoder": enc, "step": step, "decoder": dec},
        ...     context=2, horizon=2, states={"s": [1]}, z_dim=1, skips=["skip_0"])
        >>> video = sampler({"context": np.zeros((1, 2, 1, 1, 1), np.float32),
        ...                  "noise": np.ones((1, 2, 1), np.float32)})
        >>> video[0, :, 0, 0, 0].tolist()
        [1.0, 2.0]
    """

    name = "latent_rollout"

    def __init__(self, graphs: dict[str, Callable[[dict], dict]], *, context: int,
                 horizon: int, states: dict[str, list], z_dim: int, skips: list[str],
                 input: str = "context", noise: str = "noise", graph: str = "decoder",
                 output: str = "frame", actions: str | None = None, num_actions: int = 0):
        missing = [g for g in ("encoder", "step", graph) if g not in graphs]
        if missing:
            raise ValueError(f"the latent_rollout sampler needs the graphs encoder, step and "
                             f"{graph}; received {sorted(graphs)}")
        self.encoder, self.step, self.decoder = graphs["encoder"], graphs["step"], graphs[graph]
        self.output = output
        self.context, self.horizon, self.z_dim = int(context), int(horizon), int(z_dim)
        self.states = {name: tuple(shape) for name, shape in states.items()}
        self.skips, self.input, self.noise = list(skips), input, noise
        self.actions, self.num_actions = actions, int(num_actions)
        if self.actions and self.context != 1:
            raise ValueError(f"an action-conditioned latent_rollout starts from one context "
                             f"frame; the manifest says context={self.context}")

    def __call__(self, inputs: dict[str, np.ndarray], frames: int | None = None,
                 **params) -> np.ndarray:
        if params:
            raise ValueError(f"the latent_rollout sampler takes only frames=; received "
                             f"{', '.join(sorted(params))}")
        frames = self.horizon if frames is None else int(frames)
        context = np.asarray(inputs[self.input], np.float32)
        if context.ndim != 5 or context.shape[1] < self.context:
            raise ValueError(f"the latent_rollout sampler needs a context of at least "
                             f"{self.context} frames, (batch, frames, height, width, "
                             f"channels); received shape {context.shape}")
        noise = np.asarray(inputs[self.noise], np.float32)
        batch = len(context)
        if noise.shape != (batch, frames, self.z_dim):
            raise ValueError(f"the latent_rollout sampler needs noise of shape "
                             f"{(batch, frames, self.z_dim)}; received {noise.shape}")
        action = None
        if self.actions:
            ids = np.asarray(inputs[self.actions])
            if ids.shape != (batch, frames) or ids.dtype.kind not in "iu" or (
                    ids.size and not 0 <= ids.min() <= ids.max() < self.num_actions):
                raise ValueError(f"the latent_rollout sampler needs {self.actions} of shape "
                                 f"{(batch, frames)}, integer ids in 0..{self.num_actions - 1}"
                                 f"; received shape {ids.shape} of {ids.dtype}")
            action = np.eye(self.num_actions, dtype=np.float32)[ids]
        context = context[:, -self.context:]
        states = {name: np.zeros((batch, *shape), np.float32)
                  for name, shape in self.states.items()}
        encoded = [self.encoder({"frame": context[:, t]}) for t in range(self.context)]
        skips = {name: np.asarray(encoded[-1][name], np.float32) for name in self.skips}
        zeros_z = np.zeros((batch, self.z_dim), np.float32)
        ones, zeros = np.ones((batch, 1), np.float32), np.zeros((batch, 1), np.float32)

        def step(h, h_target, z_noise, posterior, k=None):
            given = {} if action is None else {"action": action[:, k]}
            out = self.step({"h": h, "h_target": h_target, "eps": z_noise,
                             "posterior": posterior, **given, **states})
            states.update({name: np.asarray(out[f"next_{name}"], np.float32)
                           for name in states})
            return np.asarray(out["h_pred"], np.float32)

        for t in range(1, self.context):
            step(encoded[t - 1]["h"], encoded[t]["h"], zeros_z, ones)
        h = np.asarray(encoded[-1]["h"], np.float32)
        predicted = []
        for k in range(frames):
            h_pred = step(h, np.zeros_like(h), noise[:, k], zeros, k)
            frame = np.asarray(self.decoder({"h_pred": h_pred, **skips})[self.output],
                               np.float32)
            predicted.append(frame)
            if k + 1 < frames:
                h = np.asarray(self.encoder({"frame": frame})["h"], np.float32)
        return np.stack(predicted, axis=1)
