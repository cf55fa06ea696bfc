"""The hand-written half of ferropg.errors: psycopg2's DB-API exception hierarchy,
Diagnostics, libpq's error-message format and the table that maps a SQLSTATE class
to its DB-API base. The other half, one class per SQLSTATE, is generated from
PostgreSQL's errcodes.txt by tools/gen_errors.py into errors.py; import from there.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any, Callable

# Defined here, shown as ferropg.errors.X (errors.py re-exports them), so tracebacks
# and pickles name the public module.
_MODULE = "ferropg.errors"


class Warning(Exception):  # the DB-API name, shadowing the builtin on purpose
    """Important warnings, like data truncation while inserting (DB-API)."""


class Error(Exception):
    """Base of every ferropg error (DB-API). Server errors carry these attributes:

    ``pgerror``: the message as libpq formats it ('ERROR:  ...\\n' plus DETAIL/HINT/...
    lines); ``pgcode``: the SQLSTATE; ``diag``: every field of the server's
    ErrorResponse; ``cursor``: the cursor that ran the statement, if any.
    All are None for errors raised by the client itself.
    """

    pgerror: str | None = None
    pgcode: str | None = None
    cursor: Any = None
    _fields: Mapping[str, str] = {}

    @property
    def diag(self) -> Diagnostics:
        return Diagnostics(self)

    def __reduce__(self) -> tuple[Any, ...]:
        # The cursor is left out: it belongs to a live connection and cannot travel.
        state = {
            "pgerror": self.pgerror,
            "pgcode": self.pgcode,
            "_fields": dict(self._fields),
        }
        return (type(self), self.args, state)


class InterfaceError(Error):
    """An error of the client library rather than of the database (DB-API)."""


class DatabaseError(Error):
    """An error reported by, or about, the database (DB-API)."""


class DataError(DatabaseError):
    """A problem with the processed data: division by zero, value out of range..."""


class OperationalError(DatabaseError):
    """A problem with the database's operation: lost connection, resources, shutdown..."""


class IntegrityError(DatabaseError):
    """The relational integrity of the database is affected: a constraint failed."""


class InternalError(DatabaseError):
    """The database met an internal error: invalid transaction state, PL/pgSQL error..."""


class ProgrammingError(DatabaseError):
    """A mistake in the SQL or its use: syntax error, missing table, wrong parameters."""


class NotSupportedError(DatabaseError):
    """A method or database feature that is not supported."""


class QueryCanceledError(OperationalError):
    """The statement was cancelled (SQLSTATE 57014): a cancel request or statement_timeout."""


class TransactionRollbackError(OperationalError):
    """The transaction was rolled back by the server (class 40): serialization, deadlock."""


for _cls in (
    Warning,
    Error,
    InterfaceError,
    DatabaseError,
    DataError,
    OperationalError,
    IntegrityError,
    InternalError,
    ProgrammingError,
    NotSupportedError,
    QueryCanceledError,
    TransactionRollbackError,
):
    _cls.__module__ = _MODULE

# DB-API base of each SQLSTATE class, as psycopg2 assigns it; the key is the SQLSTATE's
# first two characters, or its first one for the families psycopg2 maps as a whole.
# Codes matching nothing are plain DatabaseError. 57014 is special-cased below.
CLASS_BASES: dict[str, type[DatabaseError]] = {
    "08": OperationalError,
    "0A": NotSupportedError,
    "20": ProgrammingError, "21": ProgrammingError,
    "22": DataError,
    "23": IntegrityError,
    "24": InternalError, "25": InternalError,
    "26": OperationalError, "27": OperationalError, "28": OperationalError,
    "2B": InternalError, "2D": InternalError, "2F": InternalError,
    "34": OperationalError,
    "38": InternalError, "39": InternalError, "3B": InternalError,
    "3D": ProgrammingError, "3F": ProgrammingError,
    "40": TransactionRollbackError,
    "42": ProgrammingError, "44": ProgrammingError,
    "5": OperationalError,
    "F": InternalError,
    "H": OperationalError,
    "P": InternalError,
    "X": InternalError,
}  # fmt: skip


def base_for_sqlstate(sqlstate: str) -> type[DatabaseError]:
    """The DB-API class a SQLSTATE falls under when it has no class of its own."""
    if sqlstate == "57014":
        return QueryCanceledError
    return (
        CLASS_BASES.get(sqlstate[:2]) or CLASS_BASES.get(sqlstate[:1]) or DatabaseError
    )


# psycopg2's Diagnostics attribute -> ErrorResponse field type code.
DIAG_FIELDS = {
    "severity": "S",
    "severity_nonlocalized": "V",
    "sqlstate": "C",
    "message_primary": "M",
    "message_detail": "D",
    "message_hint": "H",
    "statement_position": "P",
    "internal_position": "p",
    "internal_query": "q",
    "context": "W",
    "schema_name": "s",
    "table_name": "t",
    "column_name": "c",
    "datatype_name": "d",
    "constraint_name": "n",
    "source_file": "F",
    "source_line": "L",
    "source_function": "R",
}


class Diagnostics:
    """The fields of a server error, under psycopg2's names; None for absent fields.

    Built from an Error (psycopg2's ``Diagnostics(exc)``) or from a mapping of
    ErrorResponse field codes to values.
    """

    __slots__ = ("_fields",)

    def __init__(self, source: Error | Mapping[str, str]) -> None:
        self._fields = source._fields if isinstance(source, Error) else dict(source)


def _diag_property(code: str) -> property:
    return property(
        lambda self: self._fields.get(code), doc=f"ErrorResponse field {code!r}"
    )


for _name, _code in DIAG_FIELDS.items():
    setattr(Diagnostics, _name, _diag_property(_code))
Diagnostics.__module__ = "ferropg.extensions"


def format_message(
    fields: Mapping[str, str], query: str | None, context: bool = True
) -> str:
    """The message as libpq's PQresultErrorMessage shows it at default verbosity.

    ``query`` is the SQL text sent to the server (positions count its characters);
    ``context`` is False for notices, whose CONTEXT line libpq leaves out by default.
    """
    parts = []
    if "S" in fields:
        parts.append(f"{fields['S']}:  ")
    parts.append(fields.get("M", ""))
    cursor_query, position = None, 0
    if "P" in fields:
        cursor_query, position = query, _int(fields["P"])
        if query is None:
            parts.append(f" at character {fields['P']}")
    elif "p" in fields:
        cursor_query, position = fields.get("q"), _int(fields["p"])
        if cursor_query is None:
            parts.append(f" at character {fields['p']}")
    parts.append("\n")
    if cursor_query is not None and position > 0:
        parts.append(error_position(cursor_query, position))
    for code, label in (("D", "DETAIL"), ("H", "HINT"), ("q", "QUERY")):
        if code in fields:
            parts.append(f"{label}:  {fields[code]}\n")
    if context and "W" in fields:
        parts.append(f"CONTEXT:  {fields['W']}\n")
    return "".join(parts)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # libpq's atoi: garbage reads as 0, which shows no cursor
        return 0


_DISPLAY_SIZE = 60  # libpq's screen width for the LINE display
_MIN_RIGHT_CUT = 10  # how far from the line's end libpq tries to keep the caret


def _width(ch: str) -> int:
    """Screen columns of a character, as libpq counts them for UTF-8 (never less than 1)."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def error_position(query: str, position: int) -> str:
    """libpq's 'LINE n: ...' and caret lines for a 1-based character position in query."""
    loc = position - 1
    if loc < 0:
        return ""
    text = query.replace("\t", " ")
    # Find the line holding loc: its number and its [begin, end) character range.
    line, begin, end = 1, 0, len(text)
    for i, ch in enumerate(text):
        if ch in "\r\n":
            if i >= loc:
                end = i
                break
            if ch == "\r" or i == 0 or text[i - 1] != "\r":
                line += 1
            begin = i + 1
    if loc > end:
        return ""
    # Screen column where each character of the line starts, one past the end included.
    cols = [0] * (end + 1)
    for i in range(begin, end):
        cols[i + 1] = cols[i] + _width(text[i])
    cut_left = cut_right = False
    if cols[end] - cols[begin] > _DISPLAY_SIZE:
        if cols[begin] + _DISPLAY_SIZE >= cols[loc] + _MIN_RIGHT_CUT:
            while cols[end] - cols[begin] > _DISPLAY_SIZE:
                end -= 1
            cut_right = True
        else:
            while cols[loc] + _MIN_RIGHT_CUT < cols[end]:
                end -= 1
                cut_right = True
            while cols[end] - cols[begin] > _DISPLAY_SIZE:
                begin += 1
                cut_left = True
    prefix = f"LINE {line}: " + ("..." if cut_left else "")
    shown = text[begin:end] + ("..." if cut_right else "")
    caret = " " * (len(prefix) + cols[loc] - cols[begin]) + "^"
    return f"{prefix}{shown}\n{caret}\n"


def _strip_severity(message: str) -> str:
    """psycopg2's exception text: pgerror without an English ERROR/FATAL/PANIC prefix."""
    if len(message) > 8 and message[:8] in ("ERROR:  ", "FATAL:  ", "PANIC:  "):
        return message[8:]
    return message


def build_server_error(
    fields: Mapping[str, str],
    query: str | None,
    lookup: Callable[[str], type[Error] | None],
) -> Error:
    """The exception for one ErrorResponse; `lookup` maps a SQLSTATE to its own class or None."""
    sqlstate = fields.get("C", "")
    cls = lookup(sqlstate) or base_for_sqlstate(sqlstate)
    pgerror = format_message(fields, query)
    exc = cls(_strip_severity(pgerror))
    exc.pgerror = pgerror
    exc.pgcode = sqlstate or None
    exc._fields = dict(fields)
    return exc
