"""Tests of the built-in Shapes dataset and the built-in dataset registry."""

import subprocess
import sys

import numpy as np
import pytest

from vidgen_tf.data.builtin import BUILTIN_DATASETS, BUILTIN_DEFAULTS, make_builtin
from vidgen_tf.data.moving_mnist import MovingMNIST
from vidgen_tf.data.shapes import (
    BACKGROUND,
    COLOURS,
    DIRECTIONS,
    SHAPES,
    ShapesDataset,
    render_shape,
)
from vidgen_tf.errors import VidgenError


def _mass_and_centroid(frame: np.ndarray) -> tuple[float, np.ndarray]:
    """Coverage-weighted mass and (x, y) centroid of the non-background pixels of one frame."""
    weight = np.abs(frame.astype(np.float64) - np.asarray(BACKGROUND)).max(axis=-1)
    rows, cols = np.indices(weight.shape)
    mass = weight.sum()
    return mass, np.array([(weight * cols).sum(), (weight * rows).sum()]) / mass


def test_clip_shape_dtype_and_range():
    data = ShapesDataset(frames=16, size=64, num=3)
    clip = data[0]
    assert clip["video"].shape == (16, 64, 64, 3)
    assert clip["video"].dtype == np.uint8
    assert 0 <= clip["label"] < data.num_classes == 12
    assert isinstance(clip["caption"], str)
    assert len(data) == 3
    assert len(list(data)) == 3
    # The shape is drawn, and it is vivid: some pixel reaches the full colour value.
    assert clip["video"].max() >= 200


def test_class_names_are_shape_major():
    data = ShapesDataset()
    assert data.class_names[:5] == (
        "circle_left",
        "circle_right",
        "circle_up",
        "circle_down",
        "square_left",
    )
    assert data.class_names[-1] == "triangle_down"
    assert len(set(data.class_names)) == len(SHAPES) * len(DIRECTIONS)


def test_colours_are_distinct_from_background_and_each_other():
    colours = np.array(list(COLOURS.values()), dtype=np.int64)
    assert len(colours) >= 6
    assert np.abs(colours - np.asarray(BACKGROUND)).max(axis=1).min() >= 200
    gaps = np.abs(colours[:, None] - colours[None]).sum(axis=-1)
    assert gaps[~np.eye(len(colours), dtype=bool)].min() >= 60


def test_determinism():
    first = ShapesDataset(seed=3)
    second = ShapesDataset(seed=3)
    # The order of calls does not matter.
    later = [first.clip(i)["video"] for i in (5, 1)]
    earlier = [second.clip(i)["video"] for i in (1, 5)]
    np.testing.assert_array_equal(later[0], earlier[1])
    np.testing.assert_array_equal(later[1], earlier[0])
    other = ShapesDataset(seed=4).clip(5)["video"]
    assert not np.array_equal(later[0], other)
    assert not np.array_equal(first.clip(5)["video"], first.clip(6)["video"])


def test_label_matches_caption():
    data = ShapesDataset(frames=2, size=32)
    for index in range(40):
        clip = data.clip(index)
        shape, direction = data.class_names[clip["label"]].split("_")
        words = clip["caption"].split()
        assert words[-3:] == [shape, "moves", direction]
        assert words[-4] in COLOURS


def test_motion_follows_label_and_stays_inside_for_every_class():
    data = ShapesDataset(frames=16, size=64, seed=1)
    seen = set()
    for index in range(150):
        clip = data.clip(index)
        video = clip["video"]
        direction = data.class_names[clip["label"]].split("_")[1]
        seen.add(clip["label"])
        # Nothing on the border rows and columns: the shape never leaves the frame.
        background = np.asarray(BACKGROUND, dtype=np.uint8)
        for border in (video[:, 0], video[:, -1], video[:, :, 0], video[:, :, -1]):
            assert (border == background).all(), f"clip {index} touches the border"
        masses, centroids = zip(*(_mass_and_centroid(frame) for frame in video), strict=False)
        # The whole shape is visible in every frame, so its mass stays the same.
        np.testing.assert_allclose(masses, masses[0], rtol=0.05)
        centroids = np.array(centroids)
        axis = 0 if direction in ("left", "right") else 1
        sign = 1 if direction in ("right", "down") else -1
        steps = np.diff(centroids[:, axis]) * sign
        # Monotone along the labelled axis in every frame, and clearly visible overall.
        assert (steps > 0).all(), f"clip {index} ({direction}) goes backwards"
        room = 64 - 2 * 0.2 * 64 - 4
        assert (centroids[-1, axis] - centroids[0, axis]) * sign >= room / 3 - 0.5
    assert seen == set(range(12))


def test_perpendicular_drift_bounces_sometimes():
    data = ShapesDataset(frames=64, size=32, seed=0)
    reversals = 0
    for index in range(30):
        clip = data.clip(index)
        direction = data.class_names[clip["label"]].split("_")[1]
        across = 1 if direction in ("left", "right") else 0
        centroids = np.array([_mass_and_centroid(frame)[1] for frame in clip["video"]])
        steps = np.diff(centroids[:, across])
        steps = steps[np.abs(steps) > 0.05]
        reversals += int((np.sign(steps[1:]) != np.sign(steps[:-1])).any())
    assert reversals >= 1


def test_anti_aliasing_gives_intermediate_values():
    video = ShapesDataset(num=1)[0]["video"]
    colour = np.array(list(COLOURS.values()))
    pixels = video.reshape(-1, 3)
    exact = (pixels[:, None] == colour[None]).all(-1).any(-1) | (pixels == BACKGROUND).all(-1)
    assert (~exact).sum() > 20


def test_render_values_worked_out_by_hand():
    red = (200, 0, 0)
    # Circle of radius 10.25 centred on the centre of pixel (32, 32).
    circle = render_shape("circle", [32.5], [32.5], 10.25, red, 64)
    np.testing.assert_array_equal(circle[0, 32, 32], red)
    np.testing.assert_array_equal(circle[0, 0, 0], BACKGROUND)
    # Pixel (32, 42) is 10 px from the centre: signed distance -0.25, coverage 0.75.
    np.testing.assert_array_equal(circle[0, 32, 42], (150, 0, 0))
    np.testing.assert_array_equal(circle[0, 22, 32], (150, 0, 0))
    # 11 px away: signed distance 0.75, outside the half-pixel ramp.
    np.testing.assert_array_equal(circle[0, 32, 43], BACKGROUND)
    # Square of half side 5 centred at (32.5, 32.5): pixel (36, 37) is on the edge (coverage
    # 0.5 -> 100), and the square's corner pixel (37, 37) too (max-norm distance 5).
    square = render_shape("square", [32.5], [32.5], 5.0, red, 64)
    np.testing.assert_array_equal(square[0, 36, 37], (100, 0, 0))
    np.testing.assert_array_equal(square[0, 37, 37], (100, 0, 0))
    np.testing.assert_array_equal(square[0, 36, 36], red)
    np.testing.assert_array_equal(square[0, 38, 32], BACKGROUND)
    # A triangle pointing up is wider at the bottom than at the top.
    triangle = render_shape("triangle", [32.0], [32.0], 12.0, red, 64)[0, :, :, 0] > 100
    rows = np.flatnonzero(triangle.any(axis=1))
    assert triangle[rows[-1]].sum() > 3 * triangle[rows[0]].sum()
    # Symmetric about the vertical line through its centre (x = 32, between columns 31, 32).
    np.testing.assert_array_equal(triangle, triangle[:, ::-1])


def test_single_frame_and_small_size():
    video = ShapesDataset(frames=1, size=16).clip(7)["video"]
    assert video.shape == (1, 16, 16, 3)
    assert video.max() > 0


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"frames": 0}, "frames"),
        ({"size": 15}, "size"),
        ({"num": 0}, "num"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=rf"{argument} must .*received {argument}="):
        ShapesDataset(**kwargs)


def test_non_integer_argument_is_a_type_error():
    with pytest.raises(
        TypeError, match=r"frames must be an integer >= 1 for shapes; received frames=2.5"
    ):
        ShapesDataset(frames=2.5)


def test_indexing_bounds():
    data = ShapesDataset(num=2)
    with pytest.raises(IndexError):
        data[2]
    np.testing.assert_array_equal(data[-1]["video"], data[1]["video"])
    unbounded = ShapesDataset()
    with pytest.raises(TypeError):
        len(unbounded)
    stream = iter(unbounded)
    assert [next(stream)["label"] for _ in range(3)] == [unbounded[i]["label"] for i in range(3)]


def test_make_builtin_unknown_name_lists_valid_names():
    with pytest.raises(
        VidgenError, match="unknown dataset 'foo'; choose one of: moving_mnist, "
                           "moving_mnist_1, shapes, shapes_actions, stochastic_mnist"
    ):
        make_builtin("foo")


def test_make_builtin_uniform_arguments():
    assert set(BUILTIN_DATASETS) == set(BUILTIN_DEFAULTS) == {
        "shapes", "shapes_actions", "moving_mnist", "moving_mnist_1", "stochastic_mnist"}
    shapes = make_builtin(
        "shapes", frames=4, size=None, seed=2, num=None, split="test", mnist_path="nowhere.npz"
    )
    assert isinstance(shapes, ShapesDataset)
    assert (shapes.frames, shapes.size, shapes.seed, shapes.num) == (4, 64, 2, None)
    mnist = make_builtin("moving_mnist", frames=None, size=32, split="test", mnist_path=None)
    assert isinstance(mnist, MovingMNIST)
    assert (mnist.frames, mnist.size, mnist.split) == (20, 32, "test")


def test_datasets_do_not_import_tensorflow():
    code = (
        "import sys\n"
        "from vidgen_tf.data.builtin import make_builtin\n"
        "make_builtin('shapes', num=1)[0]\n"
        "make_builtin('moving_mnist', frames=2, num=1)[0]\n"
        "make_builtin('stochastic_mnist', frames=2, num=1)[0]\n"
        "make_builtin('shapes_actions', num=1)[0]\n"
        "bad = [m for m in ('tensorflow', 'keras', 'pureml') if m in sys.modules]\n"
        "sys.exit(f'imported {bad}' if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
