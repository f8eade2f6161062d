"""How a video is fitted into square frames: the share its center crop discards, and upscaling."""

from __future__ import annotations

import dataclasses

#: A center crop that discards more than this share of the longer side (an aspect ratio wider
#: than 2:1) earns a warning. 16:9 video loses 44% of its width, 4:3 loses 25%: no warning.
HEAVY_CROP = 0.5


@dataclasses.dataclass(frozen=True)
class Framing:
    """How `read_video(..., size=size)` fits `width x height` frames into `size x size`.

    The shorter side is resized to `size` (enlarged when it is smaller: an upscale), then the
    longer side is center-cropped to `size`. `vidgen data inspect`, `vidgen data prepare` and
    training on a video folder all judge a video with this one class.

    Args:
        width: int, source frame width in pixels.
        height: int, source frame height in pixels.
        size: int, side of the square frames the video is fitted into.

    Example:
        >>> wide = Framing(640, 96, 64)
        >>> round(wide.discarded, 2), wide.cropped_side, wide.upscaled
        (0.85, 'width', False)
        >>> wide.warnings()
        ['center crop discards 85% of the width (640x96 -> 64x64)']
        >>> Framing(63, 47, 64).warnings()
        ['upscaled 1.36x: shorter side 47 px < 64 (63x47 -> 64x64)']
    """

    width: int
    height: int
    size: int

    def __post_init__(self):
        for name in ("width", "height", "size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; received {name}={value!r}")

    @property
    def discarded(self) -> float:
        """Share of the longer side that the center crop throws away (0.0 for a square)."""
        return 1.0 - min(self.width, self.height) / max(self.width, self.height)

    @property
    def cropped_side(self) -> str | None:
        """"width" or "height", whichever the crop shortens; None for a square video."""
        if self.width == self.height:
            return None
        return "width" if self.width > self.height else "height"

    @property
    def scale(self) -> float:
        """Resize factor of the shorter side (above 1.0 when the video is upscaled)."""
        return self.size / min(self.width, self.height)

    @property
    def upscaled(self) -> bool:
        return min(self.width, self.height) < self.size

    def warnings(self, heavy_crop: float = HEAVY_CROP) -> list[str]:
        """What is worth telling the user: a crop discarding more than `heavy_crop` of a side,
        and any upscale. Empty when the video fits well."""
        fit = f"({self.width}x{self.height} -> {self.size}x{self.size})"
        notes = []
        if self.discarded > heavy_crop:
            notes.append(f"center crop discards {self.discarded:.0%} of the {self.cropped_side} "
                         f"{fit}")
        if self.upscaled:
            notes.append(f"upscaled {self.scale:.3g}x: shorter side "
                         f"{min(self.width, self.height)} px < {self.size} {fit}")
        return notes
