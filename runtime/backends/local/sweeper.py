"""A light background thread that moves SWF time forward on its own.

Every SWF call already fires what is due, so a database that deciders and
workers poll needs no sweeper. One that nobody touches for a while (all
pollers dead, only SQS traffic, an idle `cpec` waiting on a timer) still
wants its timeouts, timers and retention purges to happen close to when they
are due; a Sweeper calls `LocalSWF.sweep()` every `interval` seconds for that.
"""

from __future__ import annotations

import logging
import threading

from cpe.runtime.backends.local.swf import LocalSWF

logger = logging.getLogger(__name__)


class Sweeper:
    """`with Sweeper(swf, 1.0): ...` sweeps once a second until the block ends."""

    def __init__(self, swf: LocalSWF, interval: float = 1.0) -> None:
        self._swf = swf
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="cpe-local-sweeper", daemon=True
        )

    def __enter__(self) -> Sweeper:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._swf.sweep()
            except Exception:  # a failed sweep is retried on the next tick
                logger.exception("sweeping the embedded backend failed")
