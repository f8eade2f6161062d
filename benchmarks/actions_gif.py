"""An action-conditioned export steered by commands, as the GIF in docs/variational.md: one row
per held-out first frame of `shapes_actions`, one column per action program, each cell the
given frame followed by the predicted ones.

    python benchmarks/actions_gif.py export/svg_shapes_actions docs/svg_shapes_actions.gif \\
        [--num 4] [--seed 0] [--scale 3]

Each program turns once, a third of the way through. H is the horizontal direction with the
more room from the shape's first position, V the vertical one, as the data only ever moves a
shape where it has room: columns H then V, V then H, H then back, V then back. The videos
come from the TensorFlow-free runtime (`VideoGenerator.generate(context=..., actions=...)`),
as an app would run them, and the script prints how many segments they followed
(`vidgen_tf.metrics.actions.follows_actions`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HELD_OUT_SEED = 20221
OPPOSITE = {"left": "right", "right": "left", "up": "down", "down": "up"}
COLUMNS = "H then V, V then H, H then back, V then back"


def programs(centre, size: int) -> list[tuple[str, str]]:
    """The (first, second) directions of each column for a shape whose centre is `centre`
    (x, y) in a `size` frame (y grows downwards)."""
    h = "right" if centre[0] < size / 2 else "left"
    v = "down" if centre[1] < size / 2 else "up"
    return [(h, v), (v, h), (h, OPPOSITE[h]), (v, OPPOSITE[v])]


def program(first: str, second: str, frames: int) -> list[str]:
    """`frames` actions: `first` for a third of them (at least one), then `second`."""
    turn = max(1, frames // 3)
    return [first] * turn + [second] * (frames - turn)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export")
    parser.add_argument("out")
    parser.add_argument("--num", type=int, default=4, help="first frames, one per row (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument("--scale", type=int, default=3, help="pixel enlargement (default 3)")
    args = parser.parse_args()

    from vidgen_tf.data.grid import video_grid
    from vidgen_tf.data.shapes_actions import ShapesActions
    from vidgen_tf.data.video_io import write_video
    from vidgen_tf.metrics.actions import follows_actions, shape_centres
    from vidgen_tf.runtime import VideoGenerator

    generator = VideoGenerator(args.export)
    names = generator.manifest["inputs"]["actions"]["action_names"]
    frames, size = generator.frames, generator.manifest["video"]["height"]
    source = ShapesActions(frames=frames + 1, size=size, seed=HELD_OUT_SEED, num=args.num)
    cells, followed, segments = [], 0, 0
    for index in range(args.num):
        first = source.clip(index)["video"][:1]
        for a, b in programs(shape_centres(first)[0], size):
            actions = program(a, b, frames)
            video = generator.generate(1, seed=args.seed, context=first[None],
                                       actions=actions)[0]
            clip = np.concatenate([first, video])
            result = follows_actions(clip, [names.index(n) for n in actions])
            followed += result.followed
            segments += len(result.segments)
            cells.append(clip)
    grid = video_grid(np.stack(cells), cols=4)
    grid = grid.repeat(args.scale, axis=1).repeat(args.scale, axis=2)
    write_video(Path(args.out), grid, fps=generator.fps)
    print(f"wrote {args.out}: {args.num} first frames x 4 programs ({COLUMNS}); {followed} "
          f"of {segments} segments followed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
