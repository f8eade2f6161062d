"""The rollout sampler: a step graph driven frame by frame, its recurrent state carried in
numpy (ConvLSTM, PredRNN), so that any horizon can be predicted."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class RolloutSampler:
    """Feeds the context through a step graph, then its own predictions, for `frames` steps.

    The step graph takes `{"frame": (batch, height, width, channels), **states}` and returns
    the prediction of the next frame under `output` ("next_frame") and each new state under
    "next_<state name>" (ONNX forbids an output named like an input).
    The states start at zero. The context frames are fed one by one (their predictions are
    discarded, except the last one's, which is the first predicted frame); each predicted
    frame is then fed back as it is (not clipped), as the model was trained.

    Args:
        graphs: {graph name: callable taking a dict of arrays and returning a dict of arrays}.
        graph: str, default "step". The step graph.
        context: int >= 1. Context frames the model takes; a longer context is cut to its
            last `context` frames.
        horizon: int >= 1. Frames predicted when `frames` is not given.
        states: {state name: [height, width, channels]}, the recurrent state tensors.
        frame: str, default "frame". The step graph's frame input.
        output: str, default "next_frame". Its predicted-frame output.
        input: str, default "context". The prepared input holding the context, float32
            `(batch, frames, height, width, channels)` in [-1, 1], channels-last.

    Example:
        >>> step = lambda x: {"next_frame": x["frame"] + 1, "next_h": x["h"] + 1}
        >>> sampler = RolloutSampler({"step": step}, context=2, horizon=3, states={"h": [1, 1, 1]})
        >>> sampler({"context": np.zeros((1, 2, 1, 1, 1), np.float32)})[0, :, 0, 0, 0].tolist()
        [1.0, 2.0, 3.0]
    """

    name = "rollout"

    def __init__(self, graphs: dict[str, Callable[[dict], dict]], graph: str = "step", *,
                 context: int, horizon: int, states: dict[str, list], frame: str = "frame",
                 output: str = "next_frame", input: str = "context"):
        if graph not in graphs:
            raise ValueError(f"the rollout sampler needs the graph {graph!r}; received graphs "
                             f"{sorted(graphs)}")
        self.step = graphs[graph]
        self.context, self.horizon = int(context), int(horizon)
        self.states = {name: tuple(shape) for name, shape in states.items()}
        self.frame, self.output, self.input = frame, output, input

    def __call__(self, inputs: dict[str, np.ndarray], frames: int | None = None,
                 **params) -> np.ndarray:
        if params:
            raise ValueError(f"the rollout sampler takes only frames=; received "
                             f"{', '.join(sorted(params))}")
        frames = self.horizon if frames is None else int(frames)
        context = np.asarray(inputs[self.input], np.float32)
        if context.ndim != 5 or context.shape[1] < self.context:
            raise ValueError(f"the rollout sampler needs a context of at least {self.context} "
                             f"frames, (batch, frames, height, width, channels); received "
                             f"shape {context.shape}")
        context = context[:, -self.context:]
        batch = len(context)
        states = {name: np.zeros((batch, *shape), np.float32)
                  for name, shape in self.states.items()}
        predicted = []
        frame = context[:, 0]
        for t in range(self.context + frames - 1):
            out = self.step({self.frame: frame, **states})
            states = {name: np.asarray(out[f"next_{name}"], np.float32) for name in states}
            if t + 1 < self.context:
                frame = context[:, t + 1]
            else:
                frame = np.asarray(out[self.output], np.float32)
                predicted.append(frame)
        return np.stack(predicted, axis=1)
