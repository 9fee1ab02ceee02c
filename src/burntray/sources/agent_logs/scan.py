"""The usage of a log line too long to hold: a bounded, incremental scan for a few small fields.

A Claude Code assistant line can be tens of MB (a huge text or tool result in its ``content``);
the tailer will not hold a line over its cap, but the request it records still counts (ccusage
counts it). ``UsageScan`` is fed the line in pieces and keeps only the values at the paths the
reader uses - the top-level scalars, ``message.id``, ``message.model`` and the whole (small)
``message.usage`` object - as their raw JSON text. ``result`` puts them together as one small
JSON line, which the reader then decodes with the same rules as any other line, so the figures
are exactly those the line would give if it were read whole.

Everything else is passed over without being kept: long strings are skipped a search at a time,
so a 50 MB line costs a few searches per MB and no memory to speak of. A kept value larger than
its bound, or a line that is not one well-formed JSON object, is an error (``ValueError`` from
``result``): the caller counts it as skipped, it is never guessed at.
"""

from __future__ import annotations

import re

# Top-level fields kept (the reader's ``_Line`` fields), and those kept under ``message``.
TOP_FIELDS = frozenset(
    {
        b"timestamp",
        b"sessionId",
        b"requestId",
        b"costUSD",
        b"isSidechain",
        b"isApiErrorMessage",
        b"version",
        b"cwd",
    }
)
MESSAGE_FIELDS = frozenset({b"id", b"model"})
USAGE = b"usage"
MAX_SCALAR = 64 * 1024  # a kept string or number (a cwd, an id) is far smaller
MAX_USAGE = 64 * 1024  # the usage object: a dozen counters
MAX_KEY = 4096  # an object key longer than this is not one of ours: skipped, not kept

# A string's body: runs of plain bytes and escape pairs, up to (not including) its closing
# quote, or a backslash that ends the data. Possessive: linear, without backtracking.
_STRING_BODY = re.compile(rb'(?:[^"\\]++|\\.)*+', re.DOTALL)
_WHITESPACE = frozenset(b" \t\r\n")
_LITERAL = re.compile(rb"[-+0-9.eEtrufalsn]+")


class UsageScan:
    """Feed a line (without its newline) with ``feed``; ``result`` gives the small line."""

    def __init__(self) -> None:
        # one entry per open container: [is_object, key of the member being read (objects),
        # expecting ("key", "colon", "value", "comma")]
        self._stack: list[list[object]] = []
        self._done = False  # the top-level value closed
        self._error = ""
        self._in_string = False
        self._escape = False  # a backslash was the last byte of the previous piece
        self._string_is_key = False
        self._buf: bytearray | None = None  # the kept value or key being read
        self._buf_limit = 0
        self._literal: bytearray | None = None  # a number/true/false/null being read
        self._capture: bytearray | None = None  # the raw text of message.usage
        self._capture_depth = 0
        self.top: dict[bytes, bytes] = {}
        self.message: dict[bytes, bytes] = {}
        self.usage: bytes | None = None

    # --- feeding -------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        if self._error:
            return
        try:
            self._feed(data)
        except ValueError as exc:
            self._error = str(exc)

    def _keep(self, piece: bytes) -> None:
        """Add a piece of the current kept key/value (and of the usage capture)."""
        if self._capture is not None:
            self._capture += piece
            if len(self._capture) > MAX_USAGE:
                raise ValueError(f"message.usage longer than {MAX_USAGE} bytes")
        buf = self._buf
        if buf is not None:
            buf += piece
            if len(buf) > self._buf_limit:
                self._buf = None  # a key that is not ours; a value: an error below
                if not self._string_is_key:
                    raise ValueError(f"a usage field longer than {self._buf_limit} bytes")

    def _feed(self, data: bytes) -> None:
        pos, end = 0, len(data)
        while pos < end:
            if self._in_string:
                pos = self._string(data, pos)
                continue
            if self._literal is not None:
                match = _LITERAL.match(data, pos)
                if match and match.end() > pos:
                    self._literal += match.group()
                    self._keep(match.group())
                    if len(self._literal) > MAX_SCALAR:
                        raise ValueError("a number or literal longer than the line allows")
                    pos = match.end()
                    if pos == end:
                        return  # it may go on in the next piece
                self._literal = None
                self._end_value()
                continue
            byte = data[pos]
            if byte in _WHITESPACE:
                if self._capture is not None:
                    self._capture.append(byte)
                pos += 1
                continue
            self._structural(byte)
            pos += 1

    def _string(self, data: bytes, pos: int) -> int:
        """Inside a string: to its closing quote (or the end of the piece)."""
        keeping = self._buf is not None or self._capture is not None
        if self._escape:  # the piece before ended on a backslash: this byte is escaped
            self._escape = False
            if keeping:
                self._keep(data[pos : pos + 1])
            pos += 1
            if pos >= len(data):
                return pos
        # the string's body up to its closing quote, escapes included, matched in one go
        stop = _STRING_BODY.match(data, pos).end()  # type: ignore[union-attr]
        if keeping:
            self._keep(data[pos:stop])
        if stop == len(data):
            return stop
        if data[stop] == 0x5C:  # a backslash that ends the piece: its byte comes next
            if keeping:
                self._keep(b"\\")
            self._escape = True
            return stop + 1
        if keeping:
            self._keep(b'"')
        self._in_string = False
        if self._string_is_key:
            text = self._buf
            self._buf = None
            top = self._stack[-1]
            top[1] = bytes(text[1:-1]) if text is not None else None  # without its quotes
            top[2] = "colon"
        else:
            self._end_value()
        return stop + 1

    def _path_wants(self) -> str:
        """What the value about to be read is to us: "usage", "scalar" or ""."""
        stack = self._stack
        if self._capture is not None or not stack or not stack[-1][0]:
            return ""
        key = stack[-1][1]
        if len(stack) == 1:
            return "scalar" if key in TOP_FIELDS else ""
        if len(stack) == 2 and stack[0][1] == b"message" and stack[1][0]:
            if key == USAGE:
                return "usage"
            return "scalar" if key in MESSAGE_FIELDS else ""
        return ""

    def _structural(self, byte: int) -> None:
        if self._done:
            raise ValueError("more after the line's JSON object")
        stack = self._stack
        top = stack[-1] if stack else None
        char = chr(byte)
        if top is not None and top[0] and top[2] in ("key", "first"):
            if char == "}" and top[2] == "first":
                self._close()
                return
            if char != '"':
                raise ValueError("an object key is not a string")
            self._start_string(key=True)
            return
        if top is not None and top[2] == "colon":
            if char != ":":
                raise ValueError("':' missing after an object key")
            if self._capture is not None:
                self._capture.append(byte)
            top[2] = "value"
            return
        if top is not None and top[2] == "comma":
            if char == ",":
                if self._capture is not None:
                    self._capture.append(byte)
                top[2] = "key" if top[0] else "value"
                return
            if char == ("}" if top[0] else "]"):
                self._close()
                return
            raise ValueError(f"unexpected {char!r} between values")
        # a value starts here (top-level, after ':' or in an array)
        if char == "]" and top is not None and not top[0] and top[2] == "first":
            self._close()
            return
        wants = self._path_wants()
        if char in "{[":
            if top is None and char != "{":
                raise ValueError("the line is not a JSON object")
            if wants == "usage":
                self._capture = bytearray()
                self._capture_depth = len(stack) + 1
            if self._capture is not None:
                self._capture.append(byte)
            stack.append([char == "{", None, "first"])
            return
        if top is None:
            raise ValueError("the line is not a JSON object")
        if char == '"':
            self._start_string(key=False, keep=wants == "scalar")
            return
        one = bytes((byte,))
        if _LITERAL.match(one):
            self._literal = bytearray()
            self._string_is_key = False
            self._buf = bytearray() if wants == "scalar" else None
            self._buf_limit = MAX_SCALAR
            self._literal += one
            self._keep(one)
            return
        raise ValueError(f"unexpected {char!r}")

    def _start_string(self, *, key: bool, keep: bool = False) -> None:
        self._in_string = True
        self._string_is_key = key
        if key and self._capture is None:
            self._buf, self._buf_limit = bytearray(b'"'), MAX_KEY
        elif keep:
            self._buf, self._buf_limit = bytearray(b'"'), MAX_SCALAR
        else:
            self._buf = None
        if self._capture is not None:
            self._capture.append(0x22)

    def _end_value(self) -> None:
        """A scalar value ended; it is stored when it was kept (its raw JSON is in ``_buf``)."""
        stack = self._stack
        top = stack[-1]
        if self._buf is not None and self._capture is None:
            key = top[1]
            assert isinstance(key, bytes)
            (self.top if len(stack) == 1 else self.message)[key] = bytes(self._buf)
        self._buf = None
        top[2] = "comma"

    def _close(self) -> None:
        stack = self._stack
        closed = stack.pop()
        if self._capture is not None:
            self._capture.append(0x7D if closed[0] else 0x5D)
            if len(stack) + 1 == self._capture_depth:
                self.usage = bytes(self._capture)
                self._capture = None
        if stack:
            stack[-1][2] = "comma"
        else:
            self._done = True

    # --- the answer ----------------------------------------------------------------------------
    def result(self) -> bytes | None:
        """The line's usage fields as one small JSON line; None when it has no
        ``message.usage`` (not an assistant line: nothing to count). Raises ``ValueError``
        when the line is not a well-formed JSON object or a kept field is too large."""
        if self._error:
            raise ValueError(self._error)
        if not self._done or self._in_string:
            raise ValueError("the line's JSON object is cut short")
        if self.usage is None:
            return None
        message = [b'"usage":' + self.usage]
        message += [b'"' + k + b'":' + v for k, v in self.message.items()]
        parts = [b'"' + k + b'":' + v for k, v in self.top.items()]
        parts.append(b'"message":{' + b",".join(message) + b"}")
        return b"{" + b",".join(parts) + b"}"
