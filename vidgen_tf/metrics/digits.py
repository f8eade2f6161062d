"""Which digit a Moving MNIST frame shows: a small MNIST classifier and the crop that frames a
one-digit canvas the way MNIST frames its digits, to score whether predicted frames keep the
digit they were given."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from vidgen_tf.data.mnist import DIGIT_SIZE, load_mnist

logger = logging.getLogger(__name__)

# MNIST centres each digit's centre of mass in its 28x28 field.
HALF = DIGIT_SIZE // 2
# Values at or below this (of 255) weigh nothing in a centre of mass: a predicted frame's
# faint haze over the whole canvas would otherwise pull its centre towards the middle.
FLOOR = 64


def centres_of_mass(frames: np.ndarray, floor: float = FLOOR) -> np.ndarray:
    """Each frame's centre of mass (row, column), in pixels from the top-left pixel's centre,
    each pixel weighted by how far its value exceeds `floor`: float64 `(num, 2)` for
    `(num, height, width)` uint8-valued frames. A frame with nothing above `floor` gives the
    canvas' centre.

    Example:
        >>> frame = np.full((1, 4, 4), 30.0)  # a haze under the floor weighs nothing
        >>> frame[0, 1, 2], frame[0, 3, 2] = 65, 67
        >>> centres_of_mass(frame).tolist()
        [[2.5, 2.0]]
    """
    weights = np.maximum(np.asarray(frames, np.float64) - floor, 0.0)
    _, height, width = weights.shape
    mass = weights.sum(axis=(1, 2))
    safe = np.where(mass > 0, mass, 1.0)
    rows = np.where(mass > 0, (weights.sum(axis=2) * np.arange(height)).sum(axis=1) / safe,
                    (height - 1) / 2)
    cols = np.where(mass > 0, (weights.sum(axis=1) * np.arange(width)).sum(axis=1) / safe,
                    (width - 1) / 2)
    return np.stack([rows, cols], axis=-1)


def digit_crops(frames: np.ndarray) -> np.ndarray:
    """The 28x28 window around each frame's centre of mass (`centres_of_mass`), as MNIST
    frames a digit.

    Args:
        frames: uint8 `(num, height, width)` or `(num, height, width, channels)` (the first
            channel is used), one digit per frame on a black canvas, height and width >= 28.

    Returns:
        uint8 `(num, 28, 28)`: each window's top-left corner is the rounded centre of mass
        minus 14, clamped inside the canvas. A blank frame gives the canvas' centre.

    Example:
        >>> canvas = np.zeros((1, 64, 64), np.uint8)
        >>> canvas[0, 30, 40] = 255
        >>> int(digit_crops(canvas)[0, 14, 14])
        255
    """
    frames = np.asarray(frames)
    if frames.ndim == 4:
        frames = frames[..., 0]
    if frames.ndim != 3 or min(frames.shape[1:]) < DIGIT_SIZE:
        raise ValueError(f"frames must be (num, height, width[, channels]) with height and "
                         f"width >= {DIGIT_SIZE}; received shape {frames.shape}")
    num, height, width = frames.shape
    rows, cols = centres_of_mass(frames).T
    top = np.clip(np.rint(rows).astype(int) - HALF, 0, height - DIGIT_SIZE)
    left = np.clip(np.rint(cols).astype(int) - HALF, 0, width - DIGIT_SIZE)
    return np.stack([frames[i, top[i]:top[i] + DIGIT_SIZE, left[i]:left[i] + DIGIT_SIZE]
                     for i in range(num)])


def train_digit_classifier(epochs: int = 2, num: int | None = None, seed: int = 0,
                           mnist_path: str | os.PathLike | None = None):
    """A small Keras CNN that tells the ten MNIST digits apart, trained on the train split.

    Two 3x3 convolutions (32 and 64 filters, ReLU, 2x2 max pooling), dropout 0.25, a dense
    layer of 128, softmax over 10: about 99% on the MNIST test split after 2 epochs.

    Args:
        epochs: int, default 2. num: int or None, default None: the first `num` training
            digits (None: all 60,000). seed: int, default 0. mnist_path: as `load_mnist`'s.

    Returns:
        a compiled `keras.Model` taking uint8-valued float `(num, 28, 28, 1)` / 255 and
        returning class probabilities `(num, 10)`; use `classify_digits`.
    """
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    images, labels = load_mnist("train", mnist_path)
    if num is not None:
        images, labels = images[:num], labels[:num]
    model = keras.Sequential([
        keras.Input((DIGIT_SIZE, DIGIT_SIZE, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dropout(0.25), layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax", dtype="float32")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(images[..., None].astype(np.float32) / 255.0, labels.astype(np.int32),
              batch_size=128, epochs=epochs, verbose=0)
    return model


def load_digit_classifier(path: str | os.PathLike, mnist_path=None):
    """The classifier saved at `path` (a .keras file), trained and saved there first if it is
    not there yet (about 25 s on two cores)."""
    import keras

    path = Path(path)
    if not path.is_file():
        logger.info("training the MNIST digit classifier (once) -> %s", path)
        model = train_digit_classifier(mnist_path=mnist_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.stem + ".partial.keras")
        model.save(partial)
        partial.replace(path)
    return keras.saving.load_model(path)


def digit_probabilities(model, frames: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The classifier's probabilities of the ten digits for each one-digit uint8 frame
    `(num, height, width[, channels])`, read through `digit_crops`: float32 `(num, 10)`."""
    crops = digit_crops(frames)[..., None].astype(np.float32) / 255.0
    return np.asarray(model.predict(crops, batch_size=batch_size, verbose=0), np.float32)


def classify_digits(model, frames: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The digit each one-digit uint8 frame `(num, height, width[, channels])` shows: int
    `(num,)`, the classifier's most likely class."""
    return digit_probabilities(model, frames, batch_size).argmax(axis=-1)
