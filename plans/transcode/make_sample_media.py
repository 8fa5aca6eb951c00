"""Generate the media shipped with the transcoding example.

    python plans/transcode/make_sample_media.py [STORAGE_ROOT]

writes, under STORAGE_ROOT (default: the `storage/` folder beside this file):

- `cloudtranscode-dev/input/video1.mp4`: 3 s of 640x360 H.264 video at 25 fps
  (FFmpeg's `testsrc2` pattern, which moves) with a 48 kHz mono AAC track (a
  440 Hz tone that beeps once a second, FFmpeg's `sine` source);
- `cloudtranscode-dev/no-text-96px.png`: a 96x96 RGBA logo without text (a
  coloured disc with a transparent "play" triangle) for the watermark option.

Everything is made with PyAV: FFmpeg's lavfi sources run in PyAV filter graphs
and the frames are encoded with PyAV's bundled libx264, aac and png encoders.
The encoders run single-threaded with FFmpeg's bitexact flags, so one PyAV
build produces byte-identical files each time.
"""

from __future__ import annotations

import heapq
import os
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.filter
from av.audio.frame import AudioFrame
from av.codec.context import Flags
from av.container import OutputContainer
from av.frame import Frame
from av.video.frame import VideoFrame

SECONDS = 3
WIDTH, HEIGHT, FPS = 640, 360, 25
SAMPLE_RATE = 48_000
LOGO_SIZE = 96
BUCKET = "cloudtranscode-dev"


def lavfi_frames(source: str, args: str, sink: str) -> Iterator[Frame]:
    """Every frame that the lavfi source filter `source=args` produces."""
    graph = av.filter.Graph()
    graph.link_nodes(graph.add(source, args), graph.add(sink))
    graph.configure()
    yield from pull_all(graph)


def pull_all(graph: av.filter.Graph) -> Iterator[Frame]:
    while True:
        try:
            yield graph.pull()
        except (av.error.EOFError, av.error.BlockingIOError):
            return


def seconds(frame: Frame) -> Fraction:
    assert frame.pts is not None and frame.time_base is not None
    return frame.pts * frame.time_base


def make_video(path: Path) -> None:
    """Write the sample clip to `path` (through a temporary name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with av.open(
        str(partial), "w", format="mp4", options={"fflags": "+bitexact"}
    ) as container:
        mux(container)
    os.replace(partial, path)


def mux(container: OutputContainer) -> None:
    video = container.add_stream(
        "libx264",
        rate=FPS,
        options={
            "b": "300k",
            "maxrate": "400k",
            "bufsize": "800k",
            "preset": "medium",
            "g": "50",
            "threads": "1",
        },
    )
    video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    video.codec_context.flags |= Flags.bitexact
    audio = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
    audio.bit_rate = 64_000
    audio.codec_context.flags |= Flags.bitexact
    frames = heapq.merge(
        lavfi_frames(
            "testsrc2",
            f"size={WIDTH}x{HEIGHT}:rate={FPS}:duration={SECONDS}",
            "buffersink",
        ),
        lavfi_frames(
            "sine",
            f"frequency=440:beep_factor=4:sample_rate={SAMPLE_RATE}"
            f":samples_per_frame=1024:duration={SECONDS}",
            "abuffersink",
        ),
        key=seconds,
    )
    for frame in frames:
        if isinstance(frame, VideoFrame):
            container.mux(video.encode(frame))
        elif isinstance(frame, AudioFrame):
            container.mux(audio.encode(frame))
    container.mux(video.encode(None))
    container.mux(audio.encode(None))


# Alpha of the logo: a disc of radius 44 (anti-aliased edge) with a "play"
# triangle cut out of it; colours are gradients so scaling artefacts show.
LOGO_ALPHA = (
    "255*clip(44-hypot(X-47.5,Y-47.5),0,1)"
    "*(1-(gte(X,36)*lte(abs(Y-47.5),(68-X)*20/32)))"
)


def make_logo(path: Path) -> None:
    """Write the 96x96 RGBA watermark to `path` as PNG."""
    graph = av.filter.Graph()
    graph.link_nodes(
        graph.add("color", f"c=black@0:s={LOGO_SIZE}x{LOGO_SIZE}:d=1:r=1"),
        graph.add("format", "rgba"),
        graph.add("geq", r="255*X/W", g="160", b="255*(1-Y/H)", a=LOGO_ALPHA),
        graph.add("format", "rgba"),
        graph.add("buffersink"),
    )
    graph.configure()
    frame = graph.vpull()
    encoder = av.CodecContext.create("png", "w")
    assert isinstance(encoder, av.VideoCodecContext)
    encoder.width = encoder.height = LOGO_SIZE
    encoder.pix_fmt = "rgba"
    encoder.time_base = Fraction(1, 1)
    packets = encoder.encode(frame) + encoder.encode(None)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(b"".join(bytes(packet) for packet in packets))
    os.replace(partial, path)


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent / "storage"
    bucket = root / BUCKET
    for path, make in (
        (bucket / "input" / "video1.mp4", make_video),
        (bucket / "no-text-96px.png", make_logo),
    ):
        make(path)
        print(f"{path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
