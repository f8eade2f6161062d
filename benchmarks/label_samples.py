"""A GIF of a class-to-video export of the shapes data, for the README: one row per shape,
two clips per direction (left, right, up, down), each direction's pair from its own seed.

    python benchmarks/label_samples.py EXPORT OUT.gif [--scale 2]

Runs on the runtime only (no TensorFlow).
"""

from __future__ import annotations

import argparse

import numpy as np

from vidgen_tf.data.shapes import DIRECTIONS, SHAPES
from vidgen_tf.data.video_io import write_video
from vidgen_tf.runtime import VideoGenerator


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export")
    parser.add_argument("out")
    parser.add_argument("--scale", type=int, default=2)
    args = parser.parse_args(argv)
    gen = VideoGenerator(args.export)
    rows = []
    for shape in SHAPES:
        pairs = [gen.generate(2, seed=seed, label=f"{shape}_{direction}")
                 for seed, direction in enumerate(DIRECTIONS)]
        rows.append(np.concatenate([clip for pair in pairs for clip in pair], axis=2))
    grid = np.concatenate(rows, axis=1).repeat(args.scale, axis=1).repeat(args.scale, axis=2)
    write_video(args.out, grid, fps=gen.fps, metadata={
        "generator": "vidgen_tf benchmarks/label_samples.py", "export": gen.name,
        "seeds": f"0-{len(DIRECTIONS) - 1}, one per direction",
        "labels": "rows " + ", ".join(SHAPES) + "; column pairs " + ", ".join(DIRECTIONS)})
    print(f"wrote {args.out}: {grid.shape[0]} frames of {grid.shape[2]}x{grid.shape[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
