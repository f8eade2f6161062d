"""The registry of built-in datasets, made by name from a uniform set of keyword arguments."""

from __future__ import annotations

from vidgen_tf.data.moving_mnist import (
    MovingMNIST,
    OneDigitMovingMNIST,
    StochasticMovingMNIST,
)
from vidgen_tf.data.shapes import ShapesDataset
from vidgen_tf.data.shapes_actions import ShapesActions
from vidgen_tf.errors import VidgenError

BUILTIN_DATASETS: dict[str, type] = {
    "shapes": ShapesDataset,
    "moving_mnist": MovingMNIST,
    "moving_mnist_1": OneDigitMovingMNIST,
    "stochastic_mnist": StochasticMovingMNIST,
    "shapes_actions": ShapesActions,
}

BUILTIN_DEFAULTS: dict[str, dict[str, int]] = {
    "shapes": {"frames": 16, "size": 64},
    "moving_mnist": {"frames": 20, "size": 64},
    "moving_mnist_1": {"frames": 20, "size": 64},
    "stochastic_mnist": {"frames": 20, "size": 64},
    "shapes_actions": {"frames": 16, "size": 64},
}

# Arguments callers may always pass, that a dataset without them silently drops.
_IGNORED: dict[str, tuple[str, ...]] = {
    "shapes": ("split", "mnist_path", "num_digits"),
    "moving_mnist": (),
    "moving_mnist_1": (),
    "stochastic_mnist": (),
    "shapes_actions": ("split", "mnist_path", "num_digits"),
}


def make_builtin(name: str, **kwargs) -> ShapesDataset | MovingMNIST:
    """Make a built-in dataset by name.

    Callers can pass the same arguments to every dataset (frames, size, seed, num, split,
    mnist_path): arguments that are None are dropped so class defaults apply, and
    arguments a dataset has no use for (split and mnist_path for shapes) are ignored.

    Args:
        name: a key of `BUILTIN_DATASETS`: "shapes", "shapes_actions", "moving_mnist",
            "moving_mnist_1" (one digit) or "stochastic_mnist".
        **kwargs: constructor arguments of that dataset.

    Returns:
        The dataset; its clips hold uint8 video of shape (frames, size, size, 3),
        channels-last.

    Example:
        >>> make_builtin("shapes", frames=8, size=32, split=None, mnist_path=None).frames
        8
    """
    if name not in BUILTIN_DATASETS:
        raise VidgenError(
            f"unknown dataset {name!r}; choose one of: {', '.join(sorted(BUILTIN_DATASETS))}"
        )
    kwargs = {
        key: value
        for key, value in kwargs.items()
        if value is not None and key not in _IGNORED[name]
    }
    return BUILTIN_DATASETS[name](**kwargs)
