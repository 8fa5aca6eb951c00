"""MakeThumbnail v1 and WriteManifest v1: the other branch and the join."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import av
import pytest

from tests.example.transcode_helpers import BUCKET, asset_file


@pytest.fixture
def thumbnail_input(
    job: dict[str, Any], source_metadata: dict[str, Any]
) -> dict[str, Any]:
    return {
        "input_asset": job["input_asset"],
        "input_asset_metadata": source_metadata,
        "output_asset": {
            k: v for k, v in job["output_asset"].items() if k != "thumbnail"
        },
    }


def decoded(path: Path) -> tuple[str, int, int]:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return container.streams.video[0].codec_context.name, frame.width, frame.height


def test_a_jpeg_beside_the_output_by_default(
    activities: ModuleType, storage: Path, thumbnail_input: dict[str, Any]
) -> None:
    result = activities.make_thumbnail(thumbnail_input)
    path = asset_file(storage, "output/video1-360p-thumbnail.jpg")
    assert decoded(path) == ("mjpeg", 320, 180)
    assert result == {
        "bucket": BUCKET,
        "file": "/output/video1-360p-thumbnail.jpg",
        "size": path.stat().st_size,
        "width": 320,
        "height": 180,
        "codec_name": "mjpeg",
        "time": pytest.approx(1.0),
    }


def test_the_job_chooses_name_time_and_width(
    activities: ModuleType,
    storage: Path,
    thumbnail_input: dict[str, Any],
) -> None:
    thumbnail_input["output_asset"]["thumbnail"] = {
        "file": "/posters/frame.png",
        "time": 2.5,
        "width": 200,
    }
    result = activities.make_thumbnail(thumbnail_input)
    assert decoded(asset_file(storage, "posters/frame.png")) == ("png", 200, 112)
    assert result["time"] == 2.5


def test_the_picture_is_taken_at_the_time_asked(
    activities: ModuleType, storage: Path, thumbnail_input: dict[str, Any]
) -> None:
    pictures = []
    for at in (0.0, 2.0):
        thumbnail_input["output_asset"]["thumbnail"] = {
            "file": f"/t{at}.png",
            "time": at,
        }
        activities.make_thumbnail(thumbnail_input)
        with av.open(str(asset_file(storage, f"t{at}.png"))) as container:
            pictures.append(bytes(next(container.decode(video=0)).planes[0]))
    assert pictures[0] != pictures[1]  # testsrc2 moves


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"time": 3.5}, "output_asset.thumbnail.time 3.5 s is outside the video"),
        ({"time": -1}, "output_asset.thumbnail.time -1.0 s is outside the video"),
        ({"width": 0}, "output_asset.thumbnail.width must be positive"),
        ({"file": "/poster.gif"}, "name it .jpg, .jpeg or .png"),
        ({"file": "../poster.jpg"}, "'..' is not allowed"),
    ],
)
def test_bad_thumbnail_options(
    activities: ModuleType,
    storage: Path,
    thumbnail_input: dict[str, Any],
    options: dict[str, Any],
    message: str,
) -> None:
    thumbnail_input["output_asset"]["thumbnail"] = options
    with pytest.raises(activities.MediaError, match=re.escape(message)):
        activities.make_thumbnail(thumbnail_input)


def test_the_manifest_joins_both_branches(
    activities: ModuleType, storage: Path, job: dict[str, Any]
) -> None:
    task = {
        "output_asset": job["output_asset"],
        "video": {"file": "/output/video1-360p.mp4", "width": 480},
        "thumbnail": {"file": "/output/video1-360p-poster.jpg"},
        "source": {"format": {"duration": 3.0}},
        "duration": 3.0,
    }
    result = activities.write_manifest(task)
    path = asset_file(storage, "output/video1-360p.mp4.manifest.json")
    assert json.loads(path.read_text()) == {
        key: task[key] for key in ("video", "thumbnail", "source", "duration")
    }
    assert result == {
        "bucket": BUCKET,
        "file": "/output/video1-360p.mp4.manifest.json",
        "size": path.stat().st_size,
    }
