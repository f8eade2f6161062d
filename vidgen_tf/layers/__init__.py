"""Reusable Keras layers and layer-planning helpers shared by several model families."""
