"""Runtime fixtures: a private copy of the tiny export, for tests that damage it."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture
def export_copy(tiny_export, tmp_path):
    """A private copy of the tiny export, for tests that damage it."""
    return shutil.copytree(tiny_export["export"], tmp_path / "copy")


@pytest.fixture
def v1_copy(tmp_path):
    """A private copy of the shipped export/mocogan_shapes, whose manifest is version 1."""
    from pathlib import Path

    return shutil.copytree(Path(__file__).parents[2] / "export" / "mocogan_shapes",
                           tmp_path / "v1")
