"""A GIF of a text-to-video export of the shapes data, for the README: a grid of prompts,
one clip each, the first two rows from training captions and the last two from the 8
captions its training never saw.

    python benchmarks/text_samples.py EXPORT OUT.gif [--scale 3] [--seed 0]

Prints the prompt of every cell, row by row. Runs on the runtime only (no TensorFlow).
"""

from __future__ import annotations

import argparse

import numpy as np

from vidgen_tf.data.shapes import HELD_OUT_CAPTIONS
from vidgen_tf.data.video_io import write_video
from vidgen_tf.runtime import VideoGenerator

# Two rows of training captions: every shape, colour pairs and directions mixed.
TRAINED = ("a red circle moves left", "a blue square moves right",
           "a green square moves up", "an orange triangle moves down",
           "a yellow triangle moves right", "a white square moves up",
           "a cyan square moves left", "a red triangle moves down")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export")
    parser.add_argument("out")
    parser.add_argument("--scale", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    gen = VideoGenerator(args.export)
    prompts = [*TRAINED, *HELD_OUT_CAPTIONS]
    clips = [gen.generate(1, seed=args.seed + i, prompt=p)[0] for i, p in enumerate(prompts)]
    rows = [np.concatenate(clips[r:r + 4], axis=2) for r in range(0, len(clips), 4)]
    grid = np.concatenate(rows, axis=1).repeat(args.scale, axis=1).repeat(args.scale, axis=2)
    write_video(args.out, grid, fps=gen.fps, metadata={
        "generator": "vidgen_tf benchmarks/text_samples.py", "export": gen.name,
        "seeds": f"{args.seed}-{args.seed + len(prompts) - 1}, one per cell",
        "prompts": "; ".join(prompts)})
    for r in range(0, len(prompts), 4):
        kind = "trained" if r < len(TRAINED) else "held out"
        print(f"row {r // 4 + 1} ({kind}): " + " | ".join(prompts[r:r + 4]))
    print(f"wrote {args.out}: {grid.shape[0]} frames of {grid.shape[2]}x{grid.shape[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
