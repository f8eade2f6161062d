"""Draw a generator's named noise inputs with numpy from its spec (training samples, runtime).

A spec maps each input name to {"shape": per-sample shape, "dtype", "distribution":
"normal" | "uniform" | "categorical", "num_classes" (categorical only)}. Numpy only: the
runtime uses this to make the same noise from the same seed on any machine.
"""

from __future__ import annotations

import numpy as np


def sample_noise(spec: dict, num: int, seed: int | None = None, *,
                 labels=None, frames: int | None = None,
                 default_frames: int | None = None) -> dict[str, np.ndarray]:
    """Sample every named input of `spec` for `num` samples.

    Args:
        spec: the generator's `noise_spec()` (or a manifest's inputs).
        num: number of samples (>= 1).
        seed: numpy seed; the same seed gives the same arrays on any machine.
        labels: for a "categorical" input, an int or a sequence of `num` ints that replace
            its uniform draws (which are still drawn, so the other inputs do not change).
        frames: replaces a leading per-sample dimension named by `"time_axis": 0` in the spec
            (e.g. MoCoGAN's per-frame motion noise), and the dimension named "frames" in a
            manifest's shapes, to generate other clip lengths.
        default_frames: the value of "frames" when `frames` is None.

    Inputs with a "role" but no "distribution" (a manifest's conditions) are not drawn.
    """
    if num < 1:
        raise ValueError(f"num must be >= 1; received num={num}")
    rng = np.random.default_rng(seed)
    noise = {}
    for name in sorted(spec):
        item = spec[name]
        if "role" in item and "distribution" not in item:
            continue  # a condition (a prompt, a first frame): given, never drawn
        shape = list(item.get("shape", ()))
        if frames is not None and item.get("time_axis") == 0:
            shape[0] = frames
        for axis, dim in enumerate(shape):  # a manifest's named dimension
            if isinstance(dim, str):
                if dim != "frames" or not (frames or default_frames):
                    raise ValueError(f"input {name!r} has a dimension {dim!r} that has no "
                                     "value; pass frames=")
                shape[axis] = frames or default_frames
        distribution = item.get("distribution", "normal")
        if distribution == "categorical":
            count = int(item["num_classes"])
            # Drawn even when labels are given, so that the noise after it stays the same:
            # the same seed with or without the label it would have drawn is the same video.
            values = rng.integers(count, size=num)
            if labels is not None:
                values = np.broadcast_to(np.asarray(labels, dtype=np.int64), (num,))
                if values.min() < 0 or values.max() >= count:
                    raise ValueError(f"label must be in [0, {count - 1}]; received "
                                     f"label={np.asarray(labels).tolist()}")
            noise[name] = values.astype(item.get("dtype", "int32"))
        elif distribution == "uniform":
            noise[name] = rng.uniform(-1.0, 1.0, (num, *shape)).astype(item.get("dtype",
                                                                                 "float32"))
        elif distribution == "normal":
            noise[name] = rng.standard_normal((num, *shape)).astype(item.get("dtype", "float32"))
        else:
            raise ValueError(f"distribution of input {name!r} must be normal, uniform or "
                             f"categorical; received {distribution!r}")
    return noise
