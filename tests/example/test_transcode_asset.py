"""TranscodeAsset v2: H.264/AAC MP4 at the preset's size, with a watermark."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

import av
import pytest

from tests.example.transcode_helpers import (
    BUCKET,
    EXAMPLE,
    asset_file,
    frame_at,
    mean_difference,
    mean_pixel,
    region,
)


def transcode(
    activities: ModuleType, task: dict[str, Any], storage: Path, **options: Any
) -> tuple[dict[str, Any], Path]:
    """Run TranscodeAsset with `options` merged into the output asset."""
    task["output_asset"] = {**task["output_asset"], **options}
    task["output_asset"] = {
        k: v for k, v in task["output_asset"].items() if v is not None
    }
    result = activities.transcode_asset(task)
    return result, asset_file(storage, task["output_asset"]["file"])


def opened_size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        return context.width, context.height


def test_the_compat_job_makes_a_480x360_mp4(
    activities: ModuleType, storage: Path, transcode_input: dict[str, Any]
) -> None:
    result, output = transcode(
        activities,
        transcode_input,
        storage,
        file="/output/video1.mp4",
        preset="360p-4.3-generic",
        keep_ratio=False,
        no_enlarge=False,
    )
    with av.open(str(output)) as container:
        assert "mp4" in container.format.name
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        assert video.codec_context.name == "h264"
        assert (video.codec_context.width, video.codec_context.height) == (480, 360)
        assert video.codec_context.pix_fmt == "yuv420p"
        assert audio.codec_context.name == "aac"
        assert audio.codec_context.sample_rate == 48_000
        assert container.duration is not None
        assert container.duration / av.time_base == pytest.approx(3.0, abs=0.1)
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 75
    assert result == {
        "bucket": BUCKET,
        "file": "/output/video1.mp4",
        "size": output.stat().st_size,
        "duration": pytest.approx(3.0, abs=0.1),
        "width": 480,
        "height": 360,
        "video_codec": "h264",
        "audio_codec": "aac",
        "preset": "360p-4.3-generic",
        "watermarked": True,
    }
    leftovers = [p.name for p in output.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.parametrize(
    ("preset", "keep_ratio", "no_enlarge", "size"),
    [
        ("360p-4.3-generic", True, False, (480, 270)),  # fits the 16:9 source
        ("360p-16.9-generic", False, False, (640, 360)),
        ("480p-16.9-generic", False, False, (854, 480)),
        ("720p-16.9-generic", False, True, (640, 360)),  # never scaled up
        ("480p-4.3-generic", True, True, (640, 360)),
    ],
)
def test_preset_size_keep_ratio_and_no_enlarge(
    activities: ModuleType,
    storage: Path,
    transcode_input: dict[str, Any],
    preset: str,
    keep_ratio: bool,
    no_enlarge: bool,
    size: tuple[int, int],
) -> None:
    result, output = transcode(
        activities,
        transcode_input,
        storage,
        file=f"/output/{preset}.mp4",
        preset=preset,
        keep_ratio=keep_ratio,
        no_enlarge=no_enlarge,
        watermark=None,
    )
    assert opened_size(output) == size
    assert (result["width"], result["height"]) == size
    assert result["watermarked"] is False


@pytest.mark.parametrize(
    ("source", "pixel", "box", "keep", "no_enlarge", "expected"),
    [
        ((640, 360), 1, (480, 360), False, False, (480, 360)),
        ((640, 360), 1, (480, 360), True, False, (480, 270)),
        ((640, 480), 1, (1280, 720), True, False, (960, 720)),
        ((640, 480), 1, (1280, 720), True, True, (640, 480)),
        ((640, 480), 1, (1280, 720), False, True, (640, 480)),
        ((1920, 1080), 1, (480, 360), False, True, (480, 360)),
        ((720, 576), Fraction(64, 45), (1280, 720), True, True, (1024, 576)),
        ((101, 51), 1, (640, 360), False, True, (100, 50)),  # even, rounded down
    ],
)
def test_output_size(
    activities: ModuleType,
    source: tuple[int, int],
    pixel: Fraction,
    box: tuple[int, int],
    keep: bool,
    no_enlarge: bool,
    expected: tuple[int, int],
) -> None:
    size = activities.media.output_size(
        source, Fraction(pixel), box, keep_ratio=keep, no_enlarge=no_enlarge
    )
    assert size == expected


# The logo's disc is opaque around (20, 48) (its middle holds a transparent
# triangle). Placed 20 px from the bottom right of a 480x360 picture:
LOGO_AT = (480 - 96 - 20, 360 - 96 - 20)
OPAQUE = (LOGO_AT[0] + 12, LOGO_AT[1] + 40)
ELSEWHERE = (40, 200)


def watermarked_frames(
    activities: ModuleType,
    task: dict[str, Any],
    storage: Path,
    opacities: list[float | None],
) -> list[av.VideoFrame]:
    frames = []
    for number, opacity in enumerate(opacities):
        watermark = (
            None
            if opacity is None
            else {
                "bucket": BUCKET,
                "file": "/no-text-96px.png",
                "size": "96:96",
                "opacity": opacity,
                "x": -20,
                "y": -20,
            }
        )
        _, output = transcode(
            activities,
            dict(task),
            storage,
            file=f"/output/w{number}.mp4",
            preset="360p-4.3-generic",
            keep_ratio=False,
            watermark=watermark,
        )
        frames.append(frame_at(output, 30))
    return frames


def test_the_watermark_is_laid_over_the_picture(
    activities: ModuleType, storage: Path, transcode_input: dict[str, Any]
) -> None:
    plain, opaque, faint = watermarked_frames(
        activities, transcode_input, storage, [None, 1.0, 0.2]
    )
    under = [region(frame, *OPAQUE, 16) for frame in (plain, opaque, faint)]
    away = [region(frame, *ELSEWHERE, 16) for frame in (plain, opaque, faint)]
    # Where the logo is opaque the picture is the logo's (green = 160)...
    assert mean_difference(under[0], under[1]) > 100
    assert mean_pixel(under[1])[1] == pytest.approx(160, abs=25)
    # ... at 20 % it only tints the picture ...
    assert (
        10
        < mean_difference(under[0], under[2])
        < mean_difference(under[0], under[1]) / 2
    )
    # ... and far from it nothing changes beyond the encoder's noise.
    assert mean_difference(away[0], away[1]) < 12
    assert mean_difference(away[0], away[2]) < 12


def test_positive_offsets_count_from_the_top_left(activities: ModuleType) -> None:
    position = activities.media.overlay_position
    assert position(10, 480, 96) == 10
    assert position(0, 480, 96) == 0
    assert position(-20, 480, 96) == 364
    assert position(-1, 360, 96) == 263


@pytest.mark.parametrize(
    ("size", "expected"),
    [("48:48", (48, 48)), ("-1:48", (48, 48)), ("64:32", (64, 32))],
)
def test_watermark_size(
    activities: ModuleType, storage: Path, size: str, expected: tuple[int, int]
) -> None:
    media = activities.media
    watermark = media.Watermark(
        path=asset_file(storage, "no-text-96px.png"),
        size=media.parse_watermark_size(size),
        opacity=1.0,
        x=0,
        y=0,
    )
    logo = media.load_watermark(watermark, "watermark")
    assert (logo.width, logo.height) == expected
    assert logo.format.name == "rgba"


def test_the_shipped_logo_has_transparency(storage: Path) -> None:
    with av.open(str(asset_file(storage, "no-text-96px.png"))) as container:
        frame = next(container.decode(video=0)).reformat(format="rgba")
    assert (frame.width, frame.height) == (96, 96)
    alpha = bytes(frame.planes[0])[3::4]
    assert min(alpha) == 0 and max(alpha) == 255


def test_an_unknown_preset_lists_the_known_ones(
    activities: ModuleType, storage: Path, transcode_input: dict[str, Any]
) -> None:
    with pytest.raises(activities.MediaError) as raised:
        transcode(activities, transcode_input, storage, preset="360p-generic")
    message = str(raised.value)
    assert "unknown preset '360p-generic'" in message
    for name in ("360p-4.3-generic", "360p-16.9-generic", "720p-16.9-generic"):
        assert name in message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"keep_ratio": "yes"}, "output_asset.keep_ratio must be true or false"),
        ({"file": "/output/../../x.mp4"}, "'..' is not allowed"),
        (
            {"watermark": {"bucket": BUCKET, "file": "/none.png"}},
            "none.png: no such file",
        ),
        (
            {"watermark": {"bucket": BUCKET, "file": "/../x.png"}},
            "watermark cloudtranscode-dev/../x.png: '..' is not allowed",
        ),
        (
            {
                "watermark": {
                    "bucket": BUCKET,
                    "file": "/no-text-96px.png",
                    "opacity": 2,
                }
            },
            "opacity must be between 0 and 1",
        ),
        (
            {
                "watermark": {
                    "bucket": BUCKET,
                    "file": "/no-text-96px.png",
                    "size": "big",
                }
            },
            "watermark size 'big' is not",
        ),
        (
            {"watermark": {"bucket": BUCKET, "file": "/no-text-96px.png", "x": 1.5}},
            "output_asset.watermark.x must be an integer",
        ),
    ],
)
def test_bad_output_options(
    activities: ModuleType,
    storage: Path,
    transcode_input: dict[str, Any],
    options: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(activities.MediaError, match=re.escape(message)):
        transcode(activities, transcode_input, storage, **options)


def test_a_missing_input_is_named(
    activities: ModuleType, storage: Path, transcode_input: dict[str, Any]
) -> None:
    transcode_input["input_asset"] = {"bucket": BUCKET, "file": "/input/gone.mp4"}
    with pytest.raises(
        activities.MediaError, match=re.escape("input/gone.mp4: no such file")
    ):
        activities.transcode_asset(transcode_input)


def test_the_task_input_must_be_complete(
    activities: ModuleType, storage: Path, transcode_input: dict[str, Any]
) -> None:
    del transcode_input["input_asset_metadata"]
    with pytest.raises(activities.MediaError, match="lacks input_asset_metadata"):
        activities.transcode_asset(transcode_input)


def test_output_folders_are_created(
    activities: ModuleType, storage: Path, transcode_input: dict[str, Any]
) -> None:
    _, output = transcode(
        activities, transcode_input, storage, file="deep/er/clip.mp4", watermark=None
    )
    assert output.is_file()


def test_a_failure_leaves_no_file_under_the_final_name(
    activities: ModuleType,
    storage: Path,
    transcode_input: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline = activities.media.VideoPipeline
    calls = 0

    def failing(self: Any, frame: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > 10:
            raise RuntimeError("disk on fire")
        return original(self, frame)

    original = pipeline.process
    monkeypatch.setattr(pipeline, "process", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        transcode(activities, transcode_input, storage, file="/output/broken.mp4")
    folder = asset_file(storage, "output")
    assert list(folder.iterdir()) == []


def test_the_sample_media_script_makes_what_the_example_ships(tmp_path: Path) -> None:
    from cpe.runtime.activity import load_module

    script = load_module(str(EXAMPLE / "make_sample_media.py"))
    assert script.main(["make_sample_media.py", str(tmp_path)]) == 0
    video = tmp_path / BUCKET / "input" / "video1.mp4"
    shipped = EXAMPLE / "storage" / BUCKET / "input" / "video1.mp4"
    assert video.stat().st_size < 1_000_000
    with av.open(str(video)) as made, av.open(str(shipped)) as ours:
        for a, b in zip(made.streams, ours.streams, strict=True):
            assert a.codec_context.name == b.codec_context.name
            assert a.frames == b.frames
    assert opened_size(tmp_path / BUCKET / "no-text-96px.png") == (96, 96)
