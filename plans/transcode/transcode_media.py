"""Media work for the transcoding example, on local files, with PyAV only.

Nothing here knows about buckets, jobs or SWF: `activities.py` maps assets to
paths and calls these functions. Everything runs in-process through PyAV and
the FFmpeg libraries bundled in its wheel (no ffmpeg binary, no subprocess).
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.filter
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.filter import Graph
from av.filter.context import FilterContext
from av.stream import Stream
from av.video.frame import VideoFrame
from av.video.stream import VideoStream


class MediaError(Exception):
    """A media file or a media option is not usable; the message says why."""


# --------------------------------------------------------------------- probing


def open_media(path: Path, label: str) -> InputContainer:
    """Open `path` for reading; `label` names the file in error messages."""
    if not path.is_file():
        raise MediaError(f"{label}: no such file")
    try:
        return av.open(str(path), "r")
    except av.error.FFmpegError as error:
        raise MediaError(
            f"{label}: not a media file FFmpeg can read ({error.strerror})"
        ) from error


def probe(path: Path, label: str) -> dict[str, Any]:
    """What `ffprobe -show_format -show_streams` says of `path`, as JSON data.

    Unlike ffprobe, numbers are JSON numbers (durations in seconds as floats)
    and rates stay fractions written "num/den".
    """
    with open_media(path, label) as container:
        return {
            "format": describe_format(container, path),
            "streams": [describe_stream(stream) for stream in container.streams],
        }


def describe_format(container: InputContainer, path: Path) -> dict[str, Any]:
    duration = container.duration
    return {
        "filename": str(path),
        "format_name": container.format.name,
        "format_long_name": container.format.long_name,
        "nb_streams": len(container.streams),
        "start_time": _seconds(container.start_time, Fraction(1, av.time_base)),
        "duration": _seconds(duration, Fraction(1, av.time_base)),
        "size": path.stat().st_size,
        "bit_rate": container.bit_rate or None,
        "tags": dict(container.metadata),
    }


def describe_stream(stream: Stream) -> dict[str, Any]:
    context = stream.codec_context
    described: dict[str, Any] = {
        "index": stream.index,
        "codec_type": stream.type,
        "codec_name": context.name if context is not None else None,
        "codec_long_name": context.codec.long_name if context is not None else None,
        "profile": stream.profile,
        "time_base": _ratio(stream.time_base),
        "start_time": _seconds(stream.start_time, stream.time_base),
        "duration": _seconds(stream.duration, stream.time_base),
        "nb_frames": stream.frames or None,
        "bit_rate": getattr(context, "bit_rate", None) or None,
        "tags": dict(stream.metadata),
    }
    if isinstance(stream, VideoStream):
        described.update(describe_video(stream))
    elif isinstance(stream, AudioStream):
        described.update(describe_audio(stream))
    return described


def describe_video(stream: VideoStream) -> dict[str, Any]:
    context = stream.codec_context
    sar = sample_aspect_ratio(stream)
    return {
        "width": context.width,
        "height": context.height,
        "pix_fmt": context.pix_fmt,
        "sample_aspect_ratio": _ratio(sar, ":"),
        "display_aspect_ratio": _ratio(
            Fraction(context.width * sar, context.height) if context.height else None,
            ":",
        ),
        "avg_frame_rate": _ratio(stream.average_rate),
        "r_frame_rate": _ratio(stream.base_rate),
    }


def describe_audio(stream: AudioStream) -> dict[str, Any]:
    context = stream.codec_context
    return {
        "sample_rate": context.sample_rate,
        "channels": context.layout.nb_channels,
        "channel_layout": context.layout.name,
        "sample_fmt": context.format.name if context.format else None,
    }


def sample_aspect_ratio(stream: VideoStream) -> Fraction:
    """The shape of one pixel (1 when the file does not say)."""
    sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
    return Fraction(sar) if sar else Fraction(1)


def check_playable(path: Path, label: str) -> None:
    """Fail unless `path` has a video stream whose first frame decodes."""
    with open_media(path, label) as container:
        if not container.streams.video:
            raise MediaError(f"{label}: has no video stream")
        try:
            next(container.decode(container.streams.video[0]))
        except StopIteration:
            raise MediaError(f"{label}: its video stream has no frame") from None
        except av.error.FFmpegError as error:
            raise MediaError(
                f"{label}: the video cannot be decoded ({error.strerror})"
            ) from error


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return round(float(value * time_base), 6)


def _ratio(value: Fraction | None, separator: str = "/") -> str | None:
    if value is None:
        return None
    return f"{value.numerator}{separator}{value.denominator}"


# --------------------------------------------------------------------- presets


@dataclass(frozen=True)
class Preset:
    """An output profile: the box the picture fits in and the bit rates."""

    name: str
    width: int
    height: int
    video_bit_rate: int
    audio_bit_rate: int


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset("360p-4.3-generic", 480, 360, 600_000, 96_000),
        Preset("360p-16.9-generic", 640, 360, 800_000, 96_000),
        Preset("480p-4.3-generic", 640, 480, 1_000_000, 128_000),
        Preset("480p-16.9-generic", 854, 480, 1_200_000, 128_000),
        Preset("720p-16.9-generic", 1280, 720, 2_500_000, 128_000),
        Preset("1080p-16.9-generic", 1920, 1080, 5_000_000, 192_000),
    )
}


def find_preset(name: object) -> Preset:
    preset = PRESETS.get(name) if isinstance(name, str) else None
    if preset is None:
        raise MediaError(
            f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}"
        )
    return preset


def output_size(
    source: tuple[int, int],
    pixel_aspect: Fraction,
    box: tuple[int, int],
    *,
    keep_ratio: bool,
    no_enlarge: bool,
) -> tuple[int, int]:
    """The (even) picture size of the output, in square pixels.

    `keep_ratio` fits the source's display shape inside `box` instead of
    stretching it to `box`; `no_enlarge` never makes a dimension larger than
    the source's.
    """
    display_width = source[0] * pixel_aspect
    height = Fraction(source[1])
    if keep_ratio:
        scale = min(box[0] / display_width, box[1] / height)
        if no_enlarge:
            scale = min(scale, Fraction(1))
        return _even(display_width * scale), _even(height * scale)
    width, height_out = Fraction(box[0]), Fraction(box[1])
    if no_enlarge:
        width, height_out = min(width, display_width), min(height_out, height)
    return _even(width), _even(height_out)


def _even(value: Fraction) -> int:
    """Round down to even (H.264 in 4:2:0 needs it): never past the box or source."""
    return max(2, 2 * math.floor(value / 2))


# ------------------------------------------------------------------- watermark


@dataclass(frozen=True)
class Watermark:
    """A picture laid over the video: `x`/`y` < 0 count from the right/bottom."""

    path: Path
    size: tuple[int, int] | None
    opacity: float
    x: int
    y: int


def parse_watermark_size(value: object) -> tuple[int, int] | None:
    """`"W:H"` (pixels; one of them may be -1 to keep the picture's ratio)."""
    if value is None:
        return None
    parts = value.split(":") if isinstance(value, str) else []
    try:
        width, height = (int(part) for part in parts)
    except ValueError:
        width = height = 0
    if (
        (width > 0 or width == -1)
        and (height > 0 or height == -1)
        and width + height > 0
    ):
        return width, height
    raise MediaError(
        f'watermark size {value!r} is not "W:H" with positive pixel counts '
        '(one of them may be -1 to keep the picture\'s ratio), e.g. "96:96"'
    )


def load_watermark(watermark: Watermark, label: str) -> VideoFrame:
    """The watermark picture as an RGBA frame of its final size."""
    with open_media(watermark.path, label) as container:
        if not container.streams.video:
            raise MediaError(f"{label}: is not a picture")
        try:
            frame = next(container.decode(container.streams.video[0]))
        except (StopIteration, av.error.FFmpegError) as error:
            raise MediaError(f"{label}: the picture cannot be decoded") from error
    width, height = watermark.size or (frame.width, frame.height)
    if width == -1:
        width = max(1, round(frame.width * height / frame.height))
    if height == -1:
        height = max(1, round(frame.height * width / frame.width))
    return frame.reformat(width=width, height=height, format="rgba")


def overlay_position(offset: int, outer: int, inner: int) -> int:
    return offset if offset >= 0 else outer - inner + offset


# ------------------------------------------------------------------- transcode


@dataclass(frozen=True)
class TranscodeRequest:
    source: Path
    source_label: str
    target: Path
    preset: Preset
    keep_ratio: bool
    no_enlarge: bool
    watermark: Watermark | None
    watermark_label: str


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`, renamed to `path` when the block succeeds.

    A failure or a crash leaves at most a hidden `.NAME.*.partial` file, never
    a half-written file under the final name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        yield partial
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def transcode(request: TranscodeRequest) -> None:
    """Write `request.source` to `request.target` as H.264 (+AAC) in MP4."""
    with open_media(request.source, request.source_label) as source:
        if not source.streams.video:
            raise MediaError(f"{request.source_label}: has no video stream")
        video_in = source.streams.video[0]
        audio_in = source.streams.audio[0] if source.streams.audio else None
        size = output_size(
            (video_in.codec_context.width, video_in.codec_context.height),
            sample_aspect_ratio(video_in),
            (request.preset.width, request.preset.height),
            keep_ratio=request.keep_ratio,
            no_enlarge=request.no_enlarge,
        )
        logo = (
            load_watermark(request.watermark, request.watermark_label)
            if request.watermark
            else None
        )
        try:
            with atomic_output(request.target) as partial:
                with av.open(
                    str(partial), "w", format="mp4", options={"movflags": "+faststart"}
                ) as target:
                    _copy_streams(
                        source, target, video_in, audio_in, size, request, logo
                    )
        except av.error.FFmpegError as error:
            raise MediaError(
                f"{request.source_label}: transcoding failed ({error})"
            ) from error


def _copy_streams(
    source: InputContainer,
    target: OutputContainer,
    video_in: VideoStream,
    audio_in: AudioStream | None,
    size: tuple[int, int],
    request: TranscodeRequest,
    logo: VideoFrame | None,
) -> None:
    video_out = _add_video_stream(target, video_in, size, request.preset)
    audio_out = (
        _add_audio_stream(target, audio_in, request.preset) if audio_in else None
    )
    pictures = VideoPipeline(video_in, size, request.watermark, logo)
    streams = (video_in, audio_in) if audio_in else (video_in,)
    for packet in source.demux(streams):
        for frame in packet.decode():
            if isinstance(frame, VideoFrame):
                for picture in pictures.process(frame):
                    target.mux(video_out.encode(picture))
            elif isinstance(frame, AudioFrame) and audio_out is not None:
                target.mux(audio_out.encode(frame))
    for picture in pictures.process(None):
        target.mux(video_out.encode(picture))
    target.mux(video_out.encode(None))
    if audio_out is not None:
        target.mux(audio_out.encode(None))


def _add_video_stream(
    target: OutputContainer,
    video_in: VideoStream,
    size: tuple[int, int],
    preset: Preset,
) -> VideoStream:
    rate = video_in.average_rate or video_in.base_rate or Fraction(25)
    stream = target.add_stream(
        "libx264",
        rate=rate,
        options={
            "preset": "veryfast",
            "maxrate": str(preset.video_bit_rate * 3 // 2),
            "bufsize": str(preset.video_bit_rate * 2),
        },
    )
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.bit_rate = preset.video_bit_rate
    if video_in.time_base:  # keep the source's clock: variable rates survive
        stream.codec_context.time_base = video_in.time_base
    return stream


def _add_audio_stream(
    target: OutputContainer, audio_in: AudioStream, preset: Preset
) -> AudioStream:
    context = audio_in.codec_context
    layout = context.layout.name if context.layout.nb_channels <= 2 else "stereo"
    stream = target.add_stream("aac", rate=context.sample_rate, layout=layout)
    stream.bit_rate = preset.audio_bit_rate
    # PyAV's encoder resamples each frame to the AAC format and frame size.
    return stream


class VideoPipeline:
    """An FFmpeg filter graph: scale, square pixels, watermark, yuv420p."""

    def __init__(
        self,
        video_in: VideoStream,
        size: tuple[int, int],
        watermark: Watermark | None,
        logo: VideoFrame | None,
    ) -> None:
        self.graph = Graph()
        self.time_base = video_in.time_base or Fraction(1, 90_000)
        self.source = self.graph.add_buffer(template=video_in)
        scaled = self._chain(
            self.source,
            ("scale", f"{size[0]}:{size[1]}:flags=bicubic"),
            ("setsar", "1"),
        )
        self.logo = logo
        self.logo_source: FilterContext | None = None
        if watermark is not None and logo is not None:
            scaled = self._overlay(scaled, size, watermark, logo)
        self.sink = self.graph.add("buffersink")
        self._chain(scaled, ("format", "yuv420p")).link_to(self.sink)
        self.graph.configure()

    def _chain(self, start: FilterContext, *filters: tuple[str, str]) -> FilterContext:
        node = start
        for name, args in filters:
            following = self.graph.add(name, args)
            node.link_to(following)
            node = following
        return node

    def _overlay(
        self,
        main: FilterContext,
        size: tuple[int, int],
        watermark: Watermark,
        logo: VideoFrame,
    ) -> FilterContext:
        self.logo_source = self.graph.add_buffer(
            width=logo.width,
            height=logo.height,
            format=logo.format,
            time_base=self.time_base,
        )
        faded = self._chain(
            self.logo_source,
            ("format", "rgba"),
            ("colorchannelmixer", f"aa={watermark.opacity}"),
        )
        x = overlay_position(watermark.x, size[0], logo.width)
        y = overlay_position(watermark.y, size[1], logo.height)
        overlay = self.graph.add("overlay", f"x={x}:y={y}:eof_action=repeat")
        main.link_to(overlay, 0, 0)
        faded.link_to(overlay, 0, 1)
        return overlay

    def process(self, frame: VideoFrame | None) -> list[VideoFrame]:
        """Push one decoded frame (None at the end) and take what comes out."""
        if frame is not None and self.logo_source is not None and self.logo:
            self._push_logo(frame)
        self.source.push(frame)
        return self._drain()

    def _push_logo(self, first: VideoFrame) -> None:
        """Feed the still picture once, at the first frame's time, then end it.

        `overlay` repeats the last picture of an input that has ended.
        """
        assert self.logo_source is not None and self.logo is not None
        self.logo.pts = first.pts or 0
        self.logo.time_base = self.time_base
        self.logo_source.push(self.logo)
        self.logo_source.push(None)
        self.logo = None

    def _drain(self) -> list[VideoFrame]:
        pictures: list[VideoFrame] = []
        while True:
            try:
                picture = self.sink.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return pictures
            assert isinstance(picture, VideoFrame)
            pictures.append(picture)


# ------------------------------------------------------------------- thumbnail


def thumbnail(
    source: Path, label: str, target: Path, at: float, width: int | None
) -> dict[str, Any]:
    """Write the picture shown `at` seconds into `source` as JPEG or PNG."""
    codec, pix_fmt = _picture_codec(target)
    with open_media(source, label) as container:
        if not container.streams.video:
            raise MediaError(f"{label}: has no video stream")
        stream = container.streams.video[0]
        frame = _frame_at(container, stream, at, label)
        out_w, out_h = thumbnail_size(
            (frame.width, frame.height), sample_aspect_ratio(stream), width
        )
    picture = frame.reformat(width=out_w, height=out_h, format=pix_fmt)
    encoder = av.CodecContext.create(codec, "w")
    assert isinstance(encoder, av.VideoCodecContext)
    encoder.width, encoder.height, encoder.pix_fmt = out_w, out_h, pix_fmt
    encoder.time_base = Fraction(1, 25)
    picture.pts = 0
    data = b"".join(bytes(p) for p in encoder.encode(picture) + encoder.encode(None))
    with atomic_output(target) as partial:
        partial.write_bytes(data)
    return {"width": out_w, "height": out_h, "codec_name": codec, "time": at}


def thumbnail_size(
    source: tuple[int, int], pixel_aspect: Fraction, width: int | None
) -> tuple[int, int]:
    """Square pixels, the source's shape, `width` wide at most (never enlarged)."""
    display_width = source[0] * pixel_aspect
    scale = min(Fraction(1), Fraction(width) / display_width) if width else Fraction(1)
    return _even(display_width * scale), _even(source[1] * scale)


def _picture_codec(target: Path) -> tuple[str, str]:
    suffix = target.suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        return "mjpeg", "yuvj420p"
    if suffix == ".png":
        return "png", "rgb24"
    raise MediaError(
        f"thumbnail {target.name}: name it .jpg, .jpeg or .png to choose the format"
    )


def _frame_at(
    container: InputContainer, stream: VideoStream, at: float, label: str
) -> VideoFrame:
    """The first frame shown at or after `at` seconds (or the last one)."""
    if stream.time_base is not None and at > 0:
        container.seek(int(at / stream.time_base), stream=stream, backward=True)
    last: VideoFrame | None = None
    for frame in container.decode(stream):
        last = frame
        if frame.time is not None and frame.time >= at:
            break
    if last is None:
        raise MediaError(f"{label}: no video frame to make a thumbnail from")
    return last
