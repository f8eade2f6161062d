"""Runtime fixtures: a private copy of the tiny export, for tests that damage it."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture
def export_copy(tiny_export, tmp_path):
    """A private copy of the tiny export, for tests that damage it."""
    return shutil.copytree(tiny_export["export"], tmp_path / "copy")
