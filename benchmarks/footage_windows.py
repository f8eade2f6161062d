"""Cut a `vidgen data prepare` folder into every non-overlapping clip-length window, as a new
prepared folder: a real side for FVD with many more clips than there are videos.

    python benchmarks/footage_windows.py PREPARED OUT [--frames 16]
        [--variant real|blur|static|down2|down4]

`blur` blurs each window (Gaussian, sigma 2 pixels per frame), `static` holds its first
frame, and `down2`/`down4` shrink every frame 2x or 4x (area average) and enlarge it back
(bilinear): the footage as a perfect model at a half or a quarter of the size would show it.
All are baselines of what an FVD on that footage means (docs/training.md, "The
defaults against the paper on real footage"). Prints how many windows it wrote.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import tensorflow as tf
from scipy.ndimage import gaussian_filter

from vidgen_tf.data.pipeline import PREPARED_METADATA, _parse_spec, read_prepared_metadata
from vidgen_tf.data.tfrecord import _example


def variant(window: np.ndarray, kind: str) -> np.ndarray:
    if kind == "static":
        return np.repeat(window[:1], len(window), axis=0)
    if kind.startswith("down"):
        factor = int(kind[4:])
        size = window.shape[1]
        small = tf.image.resize(window.astype(np.float32), (size // factor, size // factor),
                                method="area")
        big = tf.image.resize(small, (size, size), method="bilinear").numpy()
        return np.clip(big + 0.5, 0, 255).astype(np.uint8)
    if kind == "blur":
        blurred = gaussian_filter(window.astype(np.float32), sigma=(0, 2, 2, 0))
        return np.clip(blurred + 0.5, 0, 255).astype(np.uint8)
    return window


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prepared")
    parser.add_argument("out")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--variant", default="real",
                        choices=("real", "blur", "static", "down2", "down4"))
    args = parser.parse_args(argv)
    src, out = Path(args.prepared), Path(args.out)
    meta = read_prepared_metadata(src)
    size = int(meta["size"])
    out.mkdir(parents=True)
    lengths, names = [], []
    with tf.io.TFRecordWriter(str(out / "clips-00000-of-00001.tfrecord")) as writer:
        for shard in sorted(src.glob("*.tfrecord")):
            for record in tf.data.TFRecordDataset(str(shard)):
                ex = tf.io.parse_single_example(record, _parse_spec())
                frames = int(ex["frames"])
                video = np.frombuffer(ex["video"].numpy(), np.uint8).reshape(
                    frames, size, size, 3)
                for k in range(frames // args.frames):
                    window = video[k * args.frames:(k + 1) * args.frames]
                    writer.write(_example(np.ascontiguousarray(variant(window, args.variant)),
                                          int(ex["label"]), ex["caption"].numpy().decode()))
                    lengths.append(args.frames)
                    names.append(f"window {k}")
    meta.update(num_clips=len(lengths), num_shards=1, frames_per_clip=lengths, files=names,
                min_frames=args.frames)
    (out / PREPARED_METADATA).write_text(json.dumps(meta, indent=1))
    print(f"{len(lengths)} windows of {args.frames} frames in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
