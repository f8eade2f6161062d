"""Which clip sizes a strided 3D conv stack can produce, and the layer strides that produce them."""

from __future__ import annotations


def spatial_doublings(size: int, family: str, base: int = 4) -> int:
    """Number of stride-2 spatial layers taking `base` to `size`; size must be base * 2^k, k>=1."""
    doublings, current = 0, base
    while current < size:
        current *= 2
        doublings += 1
    if current != size or doublings < 1:
        allowed = ", ".join(str(base * 2**k) for k in range(1, 6))
        raise ValueError(
            f"size must be {base} x a power of two ({allowed}, ...) for {family}; "
            f"received size={size}"
        )
    return doublings


def temporal_strides(frames: int, layers: int, family: str) -> tuple[int, tuple[int, ...]]:
    """Start length and per-layer temporal strides (2 on the last layers) reaching `frames`.

    As many layers as possible double time: `frames = start * 2^m` with m = min(layers,
    times 2 divides frames). Any frames >= 1 works; e.g. 16 frames over 4 layers start at 1.
    """
    if frames < 1:
        raise ValueError(f"frames must be >= 1 for {family}; received frames={frames}")
    doublings, start = 0, frames
    while doublings < layers and start % 2 == 0:
        start //= 2
        doublings += 1
    strides = (1,) * (layers - doublings) + (2,) * doublings
    return start, strides


DISCRIMINATOR_HEADS = ("patch", "global")


def check_head(head: str) -> None:
    """Raise a ValueError naming the valid discriminator heads unless `head` is one."""
    if head not in DISCRIMINATOR_HEADS:
        raise ValueError(f"head must be one of {', '.join(DISCRIMINATOR_HEADS)}; "
                         f"received head={head!r}")
