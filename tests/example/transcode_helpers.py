"""Helpers for the tests of the example transcoding plan (plans/transcode/)."""

from __future__ import annotations

from pathlib import Path

import av

EXAMPLE = Path(__file__).resolve().parents[2] / "plans" / "transcode"
COMPAT = Path(__file__).resolve().parents[1] / "compat"
BUCKET = "cloudtranscode-dev"


def asset_file(storage: Path, file: str, bucket: str = BUCKET) -> Path:
    return storage / bucket / file.lstrip("/")


def frame_at(path: Path, index: int) -> av.VideoFrame:
    """The `index`-th decoded video frame of `path`, as RGB."""
    with av.open(str(path)) as container:
        for position, frame in enumerate(container.decode(video=0)):
            if position == index:
                return frame.reformat(format="rgb24")
    raise AssertionError(f"{path} has fewer than {index + 1} frames")


def region(frame: av.VideoFrame, x: int, y: int, size: int) -> list[tuple[int, ...]]:
    """The RGB pixels of the `size`x`size` square at (x, y)."""
    plane = frame.planes[0]
    data = bytes(plane)
    pixels = []
    for row in range(y, y + size):
        start = row * plane.line_size + x * 3
        line = data[start : start + size * 3]
        pixels.extend(tuple(line[i : i + 3]) for i in range(0, len(line), 3))
    return pixels


def mean_difference(a: list[tuple[int, ...]], b: list[tuple[int, ...]]) -> float:
    """Mean over pixels of the summed absolute RGB difference."""
    total = sum(
        abs(p - q)
        for pixel_a, pixel_b in zip(a, b, strict=True)
        for p, q in zip(pixel_a, pixel_b, strict=True)
    )
    return total / len(a)


def mean_pixel(pixels: list[tuple[int, ...]]) -> tuple[float, ...]:
    return tuple(sum(channel) / len(pixels) for channel in zip(*pixels, strict=True))
