"""Per-clip checks of exports trained on the built-in shapes (the README's "The other
families" table): 16 clips drawn with seed 0 through the runtime, against 16 clips of the data.

    python benchmarks/shapes_clip_stats.py EXPORT_DIR [EXPORT_DIR ...]

For the data and each export, prints how many of the 16 clips look like the data
(`vidgen_tf.metrics.shapes.looks_like_shapes`: a shape of the right size that travels and
never jumps) and the range (min, median, max) of each statistic.
"""

from __future__ import annotations

import argparse

import numpy as np

from vidgen_tf.data.shapes import ShapesDataset
from vidgen_tf.metrics.shapes import clip_statistics, looks_like_shapes
from vidgen_tf.runtime import VideoGenerator

CLIPS = 16


def summary(name: str, video: np.ndarray) -> str:
    stats = clip_statistics(video)
    spans = {key: np.nanpercentile(value, [0, 50, 100]) for key, value in stats.items()}
    lit = spans["lit"] * 100
    return (f"{name}: {looks_like_shapes(stats).sum()}/{len(video)} look like the data; "
            f"lit {lit[0]:.1f} / {lit[1]:.1f} / {lit[2]:.1f}%, "
            + ", ".join(f"{key.replace('_', ' ')} {lo:.1f} / {mid:.1f} / {hi:.1f}"
                        for key, (lo, mid, hi) in spans.items() if key != "lit")
            + " (min / median / max)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exports", nargs="+", metavar="EXPORT_DIR")
    args = parser.parse_args()
    generators = [VideoGenerator(path) for path in args.exports]
    video = generators[0].manifest["video"]
    size, frames = video["height"], video["frames"]
    data = ShapesDataset(frames=frames, size=size, seed=0)
    print(summary(f"shapes data ({frames}x{size}x{size})",
                  np.stack([data.clip(i)["video"] for i in range(CLIPS)])))
    for path, generator in zip(args.exports, generators, strict=True):
        print(summary(path, generator.generate(CLIPS, seed=0)))


if __name__ == "__main__":
    main()
