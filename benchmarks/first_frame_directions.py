"""Which way an image-to-video export moves the shapes it is given, read with the rules of
`vidgen evaluate conditions` (`read_clip`), against the way the data clip of each first frame
moved.

    python benchmarks/first_frame_directions.py EXPORT [--clips 4]

The first frames are those `vidgen evaluate conditions` uses (24 shapes clips of seed 12345);
first frame i is generated with seed i. Runs on the runtime only (no TensorFlow).
"""

from __future__ import annotations

import argparse
import collections

from vidgen_tf.cli.evaluate_conditions import FIRST_FRAME_COUNT, FIRST_FRAME_SEED
from vidgen_tf.data.shapes import ShapesDataset
from vidgen_tf.metrics.conditions import read_clip
from vidgen_tf.runtime import VideoGenerator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export")
    parser.add_argument("--clips", type=int, default=4, help="clips per first frame")
    args = parser.parse_args()
    gen = VideoGenerator(args.export, providers=["CPUExecutionProvider"])
    size = int((gen.manifest.get("video") or gen.manifest)["height"])
    data = ShapesDataset(frames=int(gen.frames), size=size, seed=FIRST_FRAME_SEED)
    generated, given, same = collections.Counter(), collections.Counter(), 0
    for i in range(FIRST_FRAME_COUNT):
        clip = data.clip(i)
        real = read_clip(clip["video"]).direction
        given[real] += 1
        for video in gen.generate(args.clips, seed=i, first_frame=clip["video"][0]):
            direction = read_clip(video).direction
            generated[direction or "still"] += 1
            same += direction == real
    total = FIRST_FRAME_COUNT * args.clips
    print(f"generated ({total} clips): {dict(generated)}")
    print(f"the data clips ({FIRST_FRAME_COUNT}): {dict(given)}")
    print(f"moves the way the data clip did: {same} of {total}")


if __name__ == "__main__":
    main()
