"""A long read's progress on the terminal: "reading Claude Code logs: 41 % (2.1 of 5.2 GB)".

``status`` answers in a second, except on its first run over a heavy user's logs, which reads
them all (seconds to minutes): meanwhile this line, on stderr and only when stderr is a
terminal, says how far the read has got, rewritten in place and erased before the answer is
printed. stdout is never touched: a tmux line or a JSON document stays exactly what it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from burntray.sources.base import Source, scan_progress

if TYPE_CHECKING:  # the thread and the text load only when a terminal shows the line
    import threading

EVERY_S = 0.1  # how often the line is redrawn
WIDTH = 78  # the line is cut to this many characters: it must not wrap to redraw in place
JOIN_S = 2.0


class ProgressLine:
    """Follows a source's long reads from a thread until ``stop``; ``shown`` says whether any
    line was written."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    @staticmethod
    def wanted(stream: TextIO) -> bool:
        """Only on a terminal: a log file or a pipe gets no carriage returns."""
        try:
            return stream.isatty()
        except (AttributeError, ValueError, OSError):
            return False

    def follow(self, source: Source) -> None:
        import threading  # noqa: PLC0415 - only a terminal's line needs a thread (see the imports)

        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(source, self._stop), name="burntray-progress", daemon=True
        )
        self._thread.start()

    def _run(self, source: Source, stop: threading.Event) -> None:
        from burntray.model.progress import progress_text  # noqa: PLC0415 - see the imports

        while not stop.wait(EVERY_S):
            try:
                found = scan_progress(source)
                if found:
                    text = " · ".join(progress_text(p) for p in found)[:WIDTH]
                    self.stream.write(f"\r{text}\x1b[K")
                    self.stream.flush()
                    self.shown = True
            except Exception:  # noqa: S112 - a progress line must never break the answer
                continue

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._thread is not None:
            self._thread.join(JOIN_S)
        if self.shown:
            try:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            except (OSError, ValueError):
                pass
