"""Reading a child's output streams without letting them grow the judge's memory."""

from __future__ import annotations

import fcntl
import struct
import termios
import threading
from typing import BinaryIO

OUTPUT_KEEP = 16 * 1024  # bytes of stdout and of stderr kept for the report


class Capture:
    """A stream read to its end in a thread: its first `keep` bytes kept, all of them counted.

    Example:
        >>> import io
        >>> c = Capture(io.BufferedReader(io.BytesIO(b"x" * 10)), keep=4); c.thread.join()
        >>> c.text(), c.total
        ('xxxx', 10)
    """

    def __init__(self, stream: BinaryIO, keep: int = OUTPUT_KEEP):
        self.kept, self.total, self.keep = bytearray(), 0, keep
        try:
            self.fd = stream.fileno()
        except (OSError, ValueError):
            self.fd = -1  # not a pipe (tests): nothing can be pending
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: BinaryIO) -> None:
        with stream:
            while chunk := stream.read1(65536):  # type: ignore[attr-defined]
                self.kept += chunk[: max(0, self.keep - len(self.kept))]
                self.total += len(chunk)

    def stop_keeping(self) -> None:
        """Keep nothing written from now on (still counting): only what is read or already in the pipe stays."""
        kept = len(self.kept)
        try:
            pending = struct.unpack("i", fcntl.ioctl(self.fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        except OSError:
            pending = 0
        self.keep = min(self.keep, kept + pending)

    def text(self) -> str:
        return bytes(self.kept).decode(errors="replace")
