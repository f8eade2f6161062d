"""Tests of the offline MNIST loader and the built-in Moving MNIST dataset (real bundled digits)."""

import numpy as np
import pytest

from vidgen_tf.data.builtin import make_builtin
from vidgen_tf.data.mnist import load_mnist
from vidgen_tf.data.moving_mnist import (
    MovingMNIST,
    StochasticMovingMNIST,
    bounce_trajectory,
    stochastic_bounce_trajectory,
)
from vidgen_tf.errors import VidgenError


@pytest.fixture(autouse=True)
def _no_env_mnist(monkeypatch):
    monkeypatch.delenv("VIDGEN_MNIST", raising=False)


def _find_digit(frame: np.ndarray, images: np.ndarray, room: int) -> list[tuple[int, int, int]]:
    """Every (image index, row, col) such that `frame` is exactly that image pasted at (row, col).

    An independent check of the pasting: candidates are the images with the frame's pixel
    mass, each placed so that its bounding box lands on the frame's bounding box.
    """
    frame = frame.astype(np.int64)
    rows, cols = np.nonzero(frame)
    matches = []
    masses = images.reshape(len(images), -1).sum(axis=1, dtype=np.int64)
    for k in np.flatnonzero(masses == frame.sum()):
        image_rows, image_cols = np.nonzero(images[k])
        row, col = rows.min() - image_rows.min(), cols.min() - image_cols.min()
        if not (0 <= row <= room and 0 <= col <= room):
            continue
        pasted = np.zeros_like(frame)
        pasted[row : row + 28, col : col + 28] = images[k]
        if np.array_equal(pasted, frame):
            matches.append((int(k), int(row), int(col)))
    return matches


def test_bundled_mnist_counts_and_labels():
    for split, count in (("train", 60000), ("test", 10000)):
        images, labels = load_mnist(split)
        assert images.shape == (count, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (count,) and labels.dtype == np.int64
        assert set(np.unique(labels)) == set(range(10))
        assert images.max() == 255 and images.min() == 0
    # Loaded once per process.
    assert load_mnist("train")[0] is load_mnist("train")[0]
    # The first training labels of MNIST are well known.
    assert load_mnist("train")[1][:8].tolist() == [5, 0, 4, 1, 9, 2, 1, 3]
    assert load_mnist("test")[1][:8].tolist() == [7, 2, 1, 0, 4, 1, 4, 9]


def test_clip_shape_dtype_label_and_caption():
    data = MovingMNIST(num=2)
    clip = data[0]
    video = clip["video"]
    assert video.shape == (20, 64, 64, 3) and video.dtype == np.uint8
    np.testing.assert_array_equal(video[..., 0], video[..., 2])
    assert data.num_classes == 100 and len(data) == 2
    first, second = data.class_names[clip["label"]]
    assert clip["caption"] == f"digits {first} and {second} bounce"
    one = MovingMNIST(num_digits=1)
    assert one.class_names == tuple("0123456789")
    assert one[0]["caption"] == f"digit {one[0]['label']} bounces"


def test_determinism():
    first = MovingMNIST(frames=6, seed=5)
    second = MovingMNIST(frames=6, seed=5)
    a = [first.clip(i)["video"] for i in (3, 0)]
    b = [second.clip(i)["video"] for i in (0, 3)]
    np.testing.assert_array_equal(a[0], b[1])
    np.testing.assert_array_equal(a[1], b[0])
    assert not np.array_equal(a[0], MovingMNIST(frames=6, seed=6).clip(3)["video"])


@pytest.mark.parametrize("split", ["train", "test"])
def test_digits_are_exact_images_of_their_own_split(split):
    images, labels = load_mnist(split)
    data = MovingMNIST(frames=1, num_digits=1, split=split, seed=2)
    for index in range(5):
        clip = data.clip(index)
        matches = _find_digit(clip["video"][0, :, :, 0], images, room=36)
        assert matches, f"clip {index} of {split} is not an exact {split} digit"
        assert clip["label"] in {int(labels[k]) for k, _, _ in matches}


def test_two_digits_combine_with_maximum(tmp_path):
    # Two flat digits, 100 and 200: overlaps must show the maximum, never a (clipped) sum.
    path = tmp_path / "flat.npz"
    flat = np.stack([np.full((28, 28), 100, np.uint8), np.full((28, 28), 200, np.uint8)])
    np.savez(path, x_train=flat, y_train=np.array([3, 6]), x_test=flat, y_test=np.array([3, 6]))
    data = MovingMNIST(frames=20, num_digits=2, mnist_path=str(path))
    overlaps = 0
    for index in range(10):
        clip = data.clip(index)
        video = clip["video"][..., 0]
        assert set(np.unique(video)) <= {0, 100, 200}
        overlaps += int(((video > 0).sum(axis=(1, 2)) < 2 * 28 * 28).any())
        assert clip["label"] in (33, 36, 63, 66)
    assert overlaps >= 1


def test_bounce_keeps_digit_inside_and_speed_matches():
    images, _ = load_mnist("train")
    data = MovingMNIST(frames=200, num_digits=1, seed=1)
    assert data.step == pytest.approx(3.6)
    video = data.clip(0)["video"][..., 0]
    matches = _find_digit(video[0], images, room=36)
    assert len(matches) >= 1
    image = images[matches[0][0]]
    # Nothing is ever clipped off: every frame holds the digit's whole pixel mass.
    np.testing.assert_array_equal(video.sum(axis=(1, 2), dtype=np.int64), image.sum(dtype=np.int64))
    image_rows, image_cols = np.nonzero(image)
    positions = []
    for frame in video:
        rows, cols = np.nonzero(frame)
        positions.append((rows.min() - image_rows.min(), cols.min() - image_cols.min()))
    positions = np.array(positions)
    assert positions.min() >= 0 and positions.max() <= 36
    # It really bounces: it reaches walls on both axes.
    assert {0, 36} <= set(positions[:, 0]) | set(positions[:, 1])
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    # Steps away from the walls: the speed is 3.6 px/frame up to rounding to pixels.
    free = ((positions[:-1] > 4) & (positions[:-1] < 32) & (positions[1:] > 4)).all(axis=1)
    free &= (positions[1:] < 32).all(axis=1)
    assert free.sum() > 50
    assert np.median(steps[free]) == pytest.approx(3.6, abs=0.5)
    assert (np.abs(steps[free] - 3.6) <= 1.5).all()


def test_a_stochastic_bounce_keeps_the_speed_and_leaves_the_wall_in_a_random_direction():
    # One point heading straight at the low row wall from 2 px away at 4 px per frame, in
    # the middle of the columns: 3 more steps cannot reach another wall.
    start, velocity = np.array([[2.0, 18.0]]), np.array([[-4.0, 0.0]])
    paths = [stochastic_bounce_trajectory(start, velocity, 5, 36.0, np.random.default_rng(s))
             for s in range(20)]
    mirror = bounce_trajectory(start, velocity, 5, 36.0)
    for path in paths:
        np.testing.assert_array_equal(path[:2, 0], [[2.0, 18.0], [0.0, 18.0]])  # clamped
        steps = np.diff(path[1:, 0], axis=0)
        np.testing.assert_allclose(np.linalg.norm(steps, axis=-1), 4.0)  # same speed
        assert (steps[:, 0] >= 0).all()  # away from the wall it hit
    # The deterministic bounce goes straight back; the stochastic ones scatter.
    np.testing.assert_allclose(mirror[2:, 0, 1], 18.0)
    angles = {round(float(np.arctan2(*np.diff(p[1:3, 0], axis=0)[0])), 3) for p in paths}
    assert len(angles) == 20
    # In a corner both components point away from the walls.
    corner = stochastic_bounce_trajectory(np.array([[1.0, 35.0]]), np.array([[-3.0, 3.0]]), 4,
                                          36.0, np.random.default_rng(0))
    assert (np.diff(corner[1:, 0, 0]) >= 0).all() and (np.diff(corner[1:, 0, 1]) <= 0).all()


def test_stochastic_mnist_is_moving_mnist_until_the_first_bounce():
    data = make_builtin("stochastic_mnist", frames=30, num=4, seed=3)
    assert isinstance(data, StochasticMovingMNIST) and data.name == "stochastic_mnist"
    plain = MovingMNIST(frames=30, num=4, seed=3)
    differs = 0
    for index in range(4):
        clip, same = data[index], plain[index]
        np.testing.assert_array_equal(clip["video"][0], same["video"][0])
        assert clip["label"] == same["label"] and clip["caption"] == same["caption"]
        np.testing.assert_array_equal(clip["video"], data[index]["video"])  # deterministic
        differs += not np.array_equal(clip["video"], same["video"])
    assert differs == 4  # 30 frames at 3.6 px in 36 px of room: every clip bounces


def test_speed_scales_with_size():
    assert MovingMNIST(size=128).step == pytest.approx(10.0)
    video = MovingMNIST(size=28, frames=5, num_digits=1).clip(0)["video"]
    # No free room: the digit stays put.
    assert all(np.array_equal(frame, video[0]) for frame in video)


def _write_fake_npz(path, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(1, 256, size=(5, 28, 28), dtype=np.uint8),
        "y_train": np.array([0, 1, 2, 3, 4], dtype=np.uint8),
        "x_test": rng.integers(1, 256, size=(3, 28, 28), dtype=np.uint8),
        "y_test": np.array([7, 8, 9], dtype=np.uint8),
    }
    np.savez(path, **arrays)
    return arrays


def test_npz_path_is_the_source(tmp_path):
    path = tmp_path / "mnist.npz"
    arrays = _write_fake_npz(path)
    for split, key in (("train", "x_train"), ("test", "x_test")):
        images, labels = load_mnist(split, str(path))
        np.testing.assert_array_equal(images, arrays[key])
        data = MovingMNIST(frames=3, num_digits=1, split=split, mnist_path=str(path))
        for index in range(4):
            clip = data.clip(index)
            frame = clip["video"][0, :, :, 0]
            matches = _find_digit(frame, arrays[key], room=36)
            assert len(matches) == 1
            assert clip["label"] == labels[matches[0][0]]


def test_env_var_is_the_source(tmp_path, monkeypatch):
    path = tmp_path / "env_mnist.npz"
    arrays = _write_fake_npz(path, seed=1)
    monkeypatch.setenv("VIDGEN_MNIST", str(path))
    images, labels = load_mnist("test")
    np.testing.assert_array_equal(images, arrays["x_test"])
    assert labels.tolist() == [7, 8, 9]


def test_missing_or_malformed_npz_names_the_file(tmp_path):
    missing = tmp_path / "absent.npz"
    with pytest.raises(VidgenError, match=r"absent\.npz not found"):
        load_mnist("train", str(missing))
    with pytest.raises(VidgenError, match=r"absent\.npz"):
        MovingMNIST(mnist_path=str(missing)).clip(0)
    partial = tmp_path / "partial.npz"
    np.savez(partial, x_train=np.zeros((2, 28, 28), np.uint8), y_train=np.zeros(2, np.uint8))
    with pytest.raises(VidgenError, match=r"partial.npz lacks x_test, y_test"):
        load_mnist("test", str(partial))
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, x_train=np.zeros((2, 32, 32), np.uint8), y_train=np.zeros(2, np.uint8))
    with pytest.raises(VidgenError, match=r"wrong.npz: train images must have shape \(N, 28, 28\)"):
        load_mnist("train", str(wrong))
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip")
    with pytest.raises(VidgenError, match=r"garbage\.npz"):
        load_mnist("train", str(garbage))


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"size": 27}, "size"),
        ({"frames": 0}, "frames"),
        ({"num_digits": 0}, "num_digits"),
        ({"split": "validation"}, "split"),
        ({"num": 0}, "num"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=rf"{argument} must .*received {argument}="):
        MovingMNIST(**kwargs)


def test_load_mnist_bad_split():
    with pytest.raises(ValueError, match="split must be one of train, test; received split='val'"):
        load_mnist("val")


def test_moving_mnist_1_is_moving_mnist_with_one_digit():
    data = make_builtin("moving_mnist_1", frames=6, num=3, seed=2)
    plain = MovingMNIST(frames=6, num=3, seed=2, num_digits=1)
    assert data.name == "moving_mnist_1" and data.num_classes == 10
    for index in range(3):
        clip = data[index]
        np.testing.assert_array_equal(clip["video"], plain[index]["video"])
        assert clip["caption"] == f"digit {clip['label']} bounces"
        # One 28x28 digit: the lit pixels of a frame fit in a 28x28 box.
        rows, cols = np.nonzero(clip["video"][0, ..., 0])
        assert rows.max() - rows.min() < 28 and cols.max() - cols.min() < 28
