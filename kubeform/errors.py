"""User-facing errors.

A user's mistake must end in one line that names where it is (file, document, line,
field) and what to do, never in a traceback. Every layer raises ``UserError`` with as
much of the location as it knows; the CLI prints ``str(err)`` and exits 1.
"""

from typing import Optional


class UserError(Exception):
    """A mistake in the user's input or environment, reported as one line."""

    def __init__(
        self,
        message: str,
        *,
        file: Optional[str] = None,
        line: Optional[int] = None,
        field: Optional[str] = None,
        document: Optional[int] = None,
        hint: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.document = document
        self.hint = hint

    def located(
        self,
        *,
        file: Optional[str] = None,
        line: Optional[int] = None,
        field: Optional[str] = None,
        document: Optional[int] = None,
    ) -> "UserError":
        """Fill in location parts an inner layer did not know; keeps what it did know."""
        self.file = self.file or file
        self.line = self.line or line
        self.field = self.field or field
        self.document = self.document or document
        return self

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.document:
                where += f" (document {self.document})"
            if self.line:
                where += f":{self.line}"
            where += ": "
        elif self.line:
            where = f"line {self.line}: "
        field = f"{self.field}: " if self.field else ""
        hint = f" ({cut(self.hint, MESSAGE_LIMIT)})" if self.hint else ""
        return f"{where}{cut(field, FIELD_LIMIT)}{cut(self.message, MESSAGE_LIMIT)}{hint}"



# Longest value an error message quotes whole, and longest message; longer is cut.
SHORTEN_LIMIT = 80
MESSAGE_LIMIT = 1000
FIELD_LIMIT = 120  # a field path may hold a user's key or host pattern


def cut(text: str, limit: int = SHORTEN_LIMIT) -> str:
    """``text`` cut in the middle when longer than ``limit``: a 20 MB value in an error
    must not make a 20 MB line. The one helper for cutting values in messages."""
    if len(text) <= limit:
        return text
    keep = max(limit - 32, 10)  # the marker takes up to 32 characters
    head = keep * 2 // 3
    tail = keep - head
    return "{}...<{} characters cut>...{}".format(text[:head], len(text) - head - tail, text[len(text) - tail:])


def shorten(value: object, limit: int = SHORTEN_LIMIT) -> str:
    """``repr(value)`` for a message (as ``{value!r}``), cut when long (see ``cut``)."""
    if isinstance(value, str) and len(value) > limit:
        head, tail = value[: limit * 2 // 3], value[len(value) - limit // 3:]
        return "{!r}...<{} characters cut>...{!r}".format(head, len(value) - len(head) - len(tail), tail)
    return cut(repr(value), limit)
