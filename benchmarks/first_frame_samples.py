"""A GIF of an image-to-video export: each given first frame (held still) beside the clip the
export generates from it, for the README.

    python benchmarks/first_frame_samples.py EXPORT OUT.gif [--num 8] [--seed 0] [--scale 4]

The first frames come from built-in shapes clips of seed 12345, which no training run uses
(the same frames `vidgen evaluate conditions` judges). Runs on the runtime only (no TensorFlow).
"""

from __future__ import annotations

import argparse

import numpy as np

from vidgen_tf.data.grid import video_grid
from vidgen_tf.data.shapes import ShapesDataset
from vidgen_tf.data.video_io import write_video
from vidgen_tf.runtime import VideoGenerator

FIRST_FRAME_SEED = 12345


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export")
    parser.add_argument("out")
    parser.add_argument("--num", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=int, default=4)
    args = parser.parse_args(argv)
    gen = VideoGenerator(args.export)
    video = gen.manifest["video"]
    data = ShapesDataset(frames=video["frames"], size=video["height"], seed=FIRST_FRAME_SEED)
    firsts = np.stack([data[i]["video"][0] for i in range(args.num)])
    clips = gen.generate(args.num, seed=args.seed, first_frame=firsts)
    held = np.repeat(firsts[:, None], clips.shape[1], axis=1)
    pairs = np.stack([held, clips], axis=1).reshape(-1, *clips.shape[1:])  # given, generated
    grid = video_grid(pairs, cols=4)
    grid = grid.repeat(args.scale, axis=1).repeat(args.scale, axis=2)
    write_video(args.out, grid, fps=gen.fps, metadata={
        "generator": "vidgen_tf benchmarks/first_frame_samples.py", "export": gen.name,
        "seed": args.seed,
        "first_frames": f"shapes seed {FIRST_FRAME_SEED}, clips 0-{args.num - 1}"})
    print(f"wrote {args.out}: {args.num} pairs (given first frame, generated clip)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
