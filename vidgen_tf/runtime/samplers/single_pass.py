"""The single-pass sampler: noise and conditions in, one graph call, video out (the GANs)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class SinglePassSampler:
    """Calls one graph once on the prepared inputs and returns its video output.

    Args:
        graphs: {graph name: callable taking a dict of arrays and returning a dict of arrays}.
        graph: str, default "generator". The graph to call.
        output: str, default "video". Its output holding the video, float in [-1, 1],
            `(batch, frames, height, width, channels)`, channels-last.

    Example:
        >>> sampler = SinglePassSampler({"generator": lambda x: {"video": x["noise"]}})
        >>> sampler({"noise": np.zeros((1, 2, 4, 4, 3), np.float32)}).shape
        (1, 2, 4, 4, 3)
    """

    name = "single_pass"

    def __init__(self, graphs: dict[str, Callable[[dict], dict]], graph: str = "generator",
                 output: str = "video"):
        if graph not in graphs:
            raise ValueError(f"the single_pass sampler needs the graph {graph!r}; received "
                             f"graphs {sorted(graphs)}")
        self.graph = graphs[graph]
        self.output = output

    def __call__(self, inputs: dict[str, np.ndarray], **params) -> np.ndarray:
        if params:
            raise ValueError(f"the single_pass sampler takes no sampler parameters; received "
                             f"{', '.join(sorted(params))}")
        return np.asarray(self.graph(inputs)[self.output])
