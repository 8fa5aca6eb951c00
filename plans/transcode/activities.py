"""Activities of the example transcoding workflow (`plan.yml` beside this file).

    cpec worker --activities plans/transcode/activities.py

Assets are named as in the original CPE, by S3 `bucket` and `file`. Here a
bucket is a folder under the storage root: `$CPE_STORAGE_ROOT` when set, else
the `storage/` folder beside this file; `file` is relative to the bucket (a
leading `/` is allowed) and may not leave it.

The media work itself lives in `transcode_media.py` beside this file. The
worker imports this file by path, not as part of a package, so that module is
imported by path too (below), under a name private to this module: nothing is
added to `sys.path` and two copies of the example cannot shadow each other.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from cpe.runtime import activity

if TYPE_CHECKING:
    import transcode_media as media
else:
    _spec = importlib.util.spec_from_file_location(
        f"{__name__}__transcode_media", Path(__file__).with_name("transcode_media.py")
    )
    media = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = media  # dataclasses look their module up there
    _spec.loader.exec_module(media)

MediaError = media.MediaError
"""Every error these activities raise; its message is the task's failure reason."""


# --------------------------------------------------------------------- storage


def storage_root() -> Path:
    configured = os.environ.get("CPE_STORAGE_ROOT")
    return Path(configured) if configured else Path(__file__).parent / "storage"


@dataclass(frozen=True)
class Located:
    """Where an asset is on disk, and how error messages name it."""

    path: Path
    label: str


def locate(asset: object, role: str) -> Located:
    """The local file of `asset` (`{"bucket", "file"}`); `role` names it in errors."""
    fields = require_object(asset, role)
    bucket = fields.get("bucket")
    name = fields.get("file")
    if not isinstance(bucket, str) or bucket in ("", ".", "..") or "/" in bucket:
        raise MediaError(f"{role}.bucket must be a bucket name, got {bucket!r}")
    if not isinstance(name, str) or not name.strip("/"):
        raise MediaError(f"{role}.file must be a file name, got {name!r}")
    relative = PurePosixPath(name.lstrip("/"))
    label = f"{role} {bucket}/{relative}"
    if ".." in relative.parts:
        raise MediaError(
            f"{label}: '..' is not allowed, the file must stay in its bucket"
        )
    bucket_folder = (storage_root() / bucket).resolve()
    path = (bucket_folder / relative).resolve()
    if not path.is_relative_to(bucket_folder):
        raise MediaError(f"{label}: leads out of the bucket (through a link)")
    return Located(path, label)


# -------------------------------------------------------------- input checking


def require_object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MediaError(f"{what} must be a JSON object, got {json.dumps(value)}")
    return value


def require_keys(task: object, *keys: str) -> dict[str, Any]:
    fields = require_object(task, "the task input")
    missing = [key for key in keys if key not in fields]
    if missing:
        raise MediaError(f"the task input lacks {', '.join(missing)}")
    return fields


def optional_flag(fields: Mapping[str, Any], key: str, what: str) -> bool:
    value = fields.get(key, False)
    if not isinstance(value, bool):
        raise MediaError(f"{what}.{key} must be true or false, got {json.dumps(value)}")
    return value


def optional_number(
    fields: Mapping[str, Any], key: str, what: str, default: float
) -> float:
    value = fields.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MediaError(f"{what}.{key} must be a number, got {json.dumps(value)}")
    return float(value)


def optional_int(fields: Mapping[str, Any], key: str, what: str, default: int) -> int:
    value = fields.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MediaError(f"{what}.{key} must be an integer, got {json.dumps(value)}")
    return value


def watermark_of(output_asset: Mapping[str, Any]) -> tuple[media.Watermark, str] | None:
    """The watermark an output asset asks for, with its label for errors."""
    if output_asset.get("watermark") is None:
        return None
    where = "output_asset.watermark"
    options = require_object(output_asset["watermark"], where)
    located = locate(options, "watermark")
    opacity = optional_number(options, "opacity", where, 1.0)
    if not 0 <= opacity <= 1:
        raise MediaError(f"{where}.opacity must be between 0 and 1, got {opacity}")
    watermark = media.Watermark(
        path=located.path,
        size=media.parse_watermark_size(options.get("size")),
        opacity=opacity,
        x=optional_int(options, "x", where, 0),
        y=optional_int(options, "y", where, 0),
    )
    return watermark, located.label


def transcode_request(
    input_asset: object, output_asset: object
) -> media.TranscodeRequest:
    """Check a transcoding job's assets and options before any media work."""
    source = locate(input_asset, "input_asset")
    target = locate(output_asset, "output_asset")
    options = require_object(output_asset, "output_asset")
    # `s3_rrs` and `s3_encrypt` (S3 storage class and server-side encryption)
    # mean nothing on the local store and are ignored.
    watermark = watermark_of(options)
    if watermark is not None and not watermark[0].path.is_file():
        raise MediaError(f"{watermark[1]}: no such file")
    return media.TranscodeRequest(
        source=source.path,
        source_label=source.label,
        target=target.path,
        preset=media.find_preset(options.get("preset")),
        keep_ratio=optional_flag(options, "keep_ratio", "output_asset"),
        no_enlarge=optional_flag(options, "no_enlarge", "output_asset"),
        watermark=watermark[0] if watermark else None,
        watermark_label=watermark[1] if watermark else "watermark",
    )


# ------------------------------------------------------------------ activities


@activity(name="ValidateAsset", version="v2")
def validate_asset(task: Any) -> dict[str, Any]:
    """Check the job's input asset (and its output options); return its probe.

    Input: the workflow input, `{"input_asset": {"bucket", "file"}, ...}`.
    Output: `{"format": {...}, "streams": [...]}` as `ffprobe` shows them.
    """
    job = require_keys(task, "input_asset")
    source = locate(job["input_asset"], "input_asset")
    metadata = media.probe(source.path, source.label)
    if not any(s["codec_type"] == "video" for s in metadata["streams"]):
        raise MediaError(f"{source.label}: has no video stream")
    duration = metadata["format"]["duration"]
    if not duration or duration <= 0:
        raise MediaError(f"{source.label}: has no positive duration ({duration})")
    media.check_playable(source.path, source.label)
    if job.get("output_asset") is not None:
        transcode_request(job["input_asset"], job["output_asset"])
    return metadata


@activity(name="TranscodeAsset", version="v2")
def transcode_asset(task: Any) -> dict[str, Any]:
    """Transcode the input asset to the output asset (H.264/AAC in MP4).

    Input: `{"client", "input_asset", "input_asset_metadata", "output_asset"}`;
    `output_asset` has `preset`, optional `keep_ratio`, `no_enlarge` and
    `watermark` (`bucket`, `file`, `size` "W:H", `opacity`, `x`, `y`).
    Output: the file written, its size, duration, picture size and codecs.
    """
    job = require_keys(
        task, "client", "input_asset", "input_asset_metadata", "output_asset"
    )
    require_object(job["input_asset_metadata"], "input_asset_metadata")
    request = transcode_request(job["input_asset"], job["output_asset"])
    media.transcode(request)
    output = media.probe(request.target, f"output {request.target.name}")
    video = next(s for s in output["streams"] if s["codec_type"] == "video")
    audio = next((s for s in output["streams"] if s["codec_type"] == "audio"), None)
    return {
        "bucket": job["output_asset"]["bucket"],
        "file": job["output_asset"]["file"],
        "size": output["format"]["size"],
        "duration": output["format"]["duration"],
        "width": video["width"],
        "height": video["height"],
        "video_codec": video["codec_name"],
        "audio_codec": audio["codec_name"] if audio else None,
        "preset": request.preset.name,
        "watermarked": request.watermark is not None,
    }


@activity(name="MakeThumbnail", version="v1")
def make_thumbnail(task: Any) -> dict[str, Any]:
    """Write a poster frame of the input asset next to the output asset.

    Input: `{"input_asset", "input_asset_metadata", "output_asset"}`; the
    optional `output_asset.thumbnail` object may set `file` (default: the
    output's name with `-thumbnail.jpg`; `.png` writes PNG), `time` in seconds
    (default: a third into the video) and `width` (default 320, never enlarged).
    Output: `{"bucket", "file", "size", "width", "height", "time", "codec_name"}`.
    """
    job = require_keys(task, "input_asset", "input_asset_metadata", "output_asset")
    output_asset = require_object(job["output_asset"], "output_asset")
    where = "output_asset.thumbnail"
    options = require_object(output_asset.get("thumbnail") or {}, where)
    asset = {
        "bucket": options.get("bucket", output_asset.get("bucket")),
        "file": options.get("file", _thumbnail_name(output_asset.get("file"))),
    }
    source = locate(job["input_asset"], "input_asset")
    target = locate(asset, "thumbnail")
    duration = _duration(job["input_asset_metadata"]) or 0.0
    at = optional_number(options, "time", where, duration / 3)
    if at < 0 or (duration and at >= duration):
        raise MediaError(
            f"{where}.time {at} s is outside the video (0 to {duration} s)"
        )
    width = optional_int(options, "width", where, 320)
    if width <= 0:
        raise MediaError(f"{where}.width must be positive, got {width}")
    made = media.thumbnail(source.path, source.label, target.path, at, width)
    return {**asset, "size": target.path.stat().st_size, **made}


def _thumbnail_name(video_file: object) -> object:
    if not isinstance(video_file, str):
        return video_file  # locate() reports it
    path = PurePosixPath(video_file)
    return str(path.with_name(f"{path.stem}-thumbnail.jpg"))


def _duration(metadata: object) -> float | None:
    probe = require_object(metadata, "input_asset_metadata")
    duration = require_object(probe.get("format", {}), "input_asset_metadata.format")
    value = duration.get("duration")
    return float(value) if isinstance(value, int | float) else None


@activity(name="WriteManifest", version="v1")
def write_manifest(task: Any) -> dict[str, Any]:
    """Write a JSON manifest of what the job produced beside the output video.

    Input: `{"output_asset", "video", "thumbnail", "source", "duration"}` (the
    outputs of TranscodeAsset and MakeThumbnail, the input's probe and its
    duration in seconds). The manifest is
    `<output name>.manifest.json` in the output's bucket and folder.
    Output: `{"bucket", "file", "size"}`.
    """
    job = require_keys(task, "output_asset", "video", "thumbnail", "source", "duration")
    output_asset = require_object(job["output_asset"], "output_asset")
    video_file = output_asset.get("file")
    asset = {
        "bucket": output_asset.get("bucket"),
        "file": f"{video_file}.manifest.json" if isinstance(video_file, str) else None,
    }
    target = locate(asset, "manifest")
    manifest = {key: job[key] for key in ("video", "thumbnail", "source", "duration")}
    with media.atomic_output(target.path) as partial:
        partial.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return {**asset, "size": target.path.stat().st_size}
