"""The built-in `shapes_actions` dataset: shapes that change direction, an action per frame."""

import numpy as np
import pytest

from vidgen_tf.data.shapes import BACKGROUND, COLOURS, SHAPES
from vidgen_tf.data.shapes_actions import (
    ACTION_NAMES,
    MIN_SEGMENT,
    ShapesActions,
    plan_path,
    segment_lengths,
)


def _centroid(frame: np.ndarray) -> np.ndarray:
    """(x, y) centroid of the non-background pixels, weighted by their coverage."""
    weight = np.abs(frame.astype(np.float64) - np.asarray(BACKGROUND)).max(axis=-1)
    rows, cols = np.indices(weight.shape)
    return np.array([(weight * cols).sum(), (weight * rows).sum()]) / weight.sum()


def test_the_rendered_shape_moves_the_way_each_frames_action_says():
    # An independent check on the pixels: the centroid's step from frame t to t + 1 points in
    # the direction of actions[t], for every move of 50 clips.
    data = ShapesActions(frames=16, size=32, num=50, seed=4)
    unit = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
    changes = []
    for clip in data:
        video, actions = clip["video"], clip["actions"]
        assert video.shape == (16, 32, 32, 3) and actions.shape == (16,)
        assert actions.dtype == np.int32 and actions[-1] == actions[-2]
        # The whole shape stays inside: no colour on the outermost pixels.
        assert (video[:, [0, -1]] == 0).all() and (video[:, :, [0, -1]] == 0).all()
        centres = np.array([_centroid(frame) for frame in video])
        for t in range(15):
            step = centres[t + 1] - centres[t]
            along = step @ np.array(unit[ACTION_NAMES[actions[t]]])
            assert along > 0.5 and abs(step[0] * step[1]) < 1e-6 + 0.05 * along ** 2
        changes.append(int(np.count_nonzero(np.diff(actions[:-1]))))
        colour, shape = clip["caption"].split()[1:3]
        assert colour in COLOURS and shape == SHAPES[clip["label"]]
        assert clip["caption"].count(", then ") == changes[-1]
    assert set(changes) == {1, 2, 3}


def test_stretches_are_long_enough_and_never_repeat_a_direction():
    rng = np.random.default_rng(0)
    for moves in (6, 8, 15, 40):
        for _ in range(50):
            lengths = segment_lengths(moves, rng)
            assert lengths.sum() == moves and (lengths >= MIN_SEGMENT).all()
            assert 2 <= len(lengths) <= 4
    centres, actions = plan_path(np.array([5.0, 5.0]), np.array([3, 3, 3]), 1.0, 5.0, 11.0,
                                 np.random.default_rng(1))
    # From the corner (5, 5) of [5, 11]^2 only right and down have room for 3 px.
    assert ACTION_NAMES[actions[0]] in ("right", "down")
    assert (np.diff(actions)[[2, 5]] != 0).all()
    np.testing.assert_allclose(np.abs(np.diff(centres, axis=0)).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="no direction has room"):
        plan_path(np.array([5.0, 5.0]), np.array([4, 4]), 1.0, 5.0, 8.0, np.random.default_rng(1))


def test_clips_are_deterministic_and_short_clips_are_refused():
    data = ShapesActions(frames=10, size=24, seed=2)
    np.testing.assert_array_equal(data[3]["video"], ShapesActions(frames=10, size=24, seed=2)[3]
                                  ["video"])
    assert not np.array_equal(data[3]["actions"], data[4]["actions"]) or \
        not np.array_equal(data[3]["video"], data[4]["video"])
    with pytest.raises(ValueError, match="frames"):
        ShapesActions(frames=6)
