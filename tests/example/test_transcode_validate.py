"""ValidateAsset v2: probes the input asset, refuses what cannot be transcoded."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.example.transcode_helpers import BUCKET, COMPAT, EXAMPLE, asset_file


def video_input(file: str, bucket: str = BUCKET) -> dict[str, Any]:
    return {"input_asset": {"type": "VIDEO", "bucket": bucket, "file": file}}


def test_metadata_of_the_shipped_video(source_metadata: dict[str, Any]) -> None:
    form = source_metadata["format"]
    assert "mp4" in form["format_name"]
    assert form["duration"] == pytest.approx(3.0, abs=0.1)
    assert form["nb_streams"] == 2
    shipped = EXAMPLE / "storage" / BUCKET / "input" / "video1.mp4"
    assert form["size"] == shipped.stat().st_size
    assert form["bit_rate"] > 0
    video, audio = source_metadata["streams"]
    assert video["index"] == 0
    assert video["codec_type"] == "video"
    assert video["codec_name"] == "h264"
    assert (video["width"], video["height"]) == (640, 360)
    assert video["pix_fmt"] == "yuv420p"
    assert video["avg_frame_rate"] == "25/1"
    assert video["display_aspect_ratio"] == "16:9"
    assert video["duration"] == pytest.approx(3.0, abs=0.1)
    assert audio["codec_type"] == "audio"
    assert audio["codec_name"] == "aac"
    assert audio["sample_rate"] == 48_000
    assert audio["channels"] == 1
    json.dumps(source_metadata)  # JSON-serialisable, as a task result must be


def test_the_example_job_validates(
    activities: ModuleType, storage: Path, job: dict[str, Any]
) -> None:
    metadata = activities.validate_asset(job)
    assert metadata["streams"][0]["width"] == 640


def test_the_compat_input_validates_unchanged(
    activities: ModuleType, storage: Path
) -> None:
    compat = COMPAT / "input_video1.json"
    metadata = activities.validate_asset(json.loads(compat.read_text()))
    assert metadata["format"]["duration"] == pytest.approx(3.0, abs=0.1)


def test_a_missing_file_is_named(activities: ModuleType, storage: Path) -> None:
    with pytest.raises(activities.MediaError) as raised:
        activities.validate_asset(video_input("/input/nothing.mp4"))
    message = str(raised.value)
    assert "cloudtranscode-dev/input/nothing.mp4" in message
    assert "no such file" in message


def test_a_missing_bucket_is_a_missing_file(
    activities: ModuleType, storage: Path
) -> None:
    with pytest.raises(
        activities.MediaError, match=re.escape("other-bucket/a.mp4: no such")
    ):
        activities.validate_asset(video_input("a.mp4", bucket="other-bucket"))


def test_a_file_that_is_not_media(activities: ModuleType, storage: Path) -> None:
    asset_file(storage, "input/notes.mp4").write_text("not a video, just text\n" * 50)
    with pytest.raises(activities.MediaError) as raised:
        activities.validate_asset(video_input("/input/notes.mp4"))
    assert "input/notes.mp4" in str(raised.value)
    assert "not a media file" in str(raised.value)


def test_a_file_without_video(
    activities: ModuleType, storage: Path, tmp_path: Path
) -> None:
    import av

    sound = asset_file(storage, "input/sound.m4a")
    with av.open(str(sound), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=8000, layout="mono")
        frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
        frame.sample_rate = 8000
        frame.planes[0].update(bytes(4 * 1024))
        for index in range(8):
            frame.pts = index * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(
        activities.MediaError, match=re.escape("sound.m4a: has no video stream")
    ):
        activities.validate_asset(video_input("/input/sound.m4a"))


@pytest.mark.parametrize(
    "file", ["../../etc/passwd", "/input/../../secret.mp4", "input/../x/../../y.mp4"]
)
def test_paths_may_not_leave_the_bucket(
    activities: ModuleType, storage: Path, file: str
) -> None:
    with pytest.raises(activities.MediaError, match=re.escape("'..' is not allowed")):
        activities.validate_asset(video_input(file))


def test_links_may_not_leave_the_bucket(
    activities: ModuleType, storage: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(asset_file(storage, "input/video1.mp4").read_bytes())
    asset_file(storage, "input/link.mp4").symlink_to(outside)
    with pytest.raises(activities.MediaError, match="leads out of the bucket"):
        activities.validate_asset(video_input("input/link.mp4"))


@pytest.mark.parametrize("bucket", ["", "..", "a/b", None, 3])
def test_bad_bucket_names(activities: ModuleType, storage: Path, bucket: Any) -> None:
    with pytest.raises(activities.MediaError, match=r"input_asset\.bucket must be"):
        activities.validate_asset(video_input("input/video1.mp4", bucket=bucket))


def test_the_input_must_name_an_asset(activities: ModuleType, storage: Path) -> None:
    with pytest.raises(activities.MediaError, match="lacks input_asset"):
        activities.validate_asset({"workflow": {}})
    with pytest.raises(activities.MediaError, match="must be a JSON object"):
        activities.validate_asset("input/video1.mp4")


def test_output_options_are_checked_early(
    activities: ModuleType, storage: Path, job: dict[str, Any]
) -> None:
    job["output_asset"]["preset"] = "4k-cinema"
    with pytest.raises(activities.MediaError, match="unknown preset '4k-cinema'"):
        activities.validate_asset(job)


def test_storage_defaults_to_the_folder_beside_the_activities(
    activities: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CPE_STORAGE_ROOT", raising=False)
    assert activities.storage_root().resolve() == (EXAMPLE / "storage").resolve()
