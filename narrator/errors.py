"""Errors a user can act on. The CLI prints their message on one line and exits non-zero;
anything else escaping a stage is a bug."""

import errno
import re

# C0 and C1 controls, line and paragraph separators, bidirectional overrides and isolates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with its control characters escaped ("\\x1b", "\\n"): a message that quotes
    input (a URL, a WARC record) stays on one line and cannot drive the terminal."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class NarratorError(Exception):
    """Base class: the message is written for the person running narrator."""

    exit_code = 1


class InputError(NarratorError):
    """The input cannot be read or is not an HTML article page."""

    exit_code = 2


class NoArticleError(InputError):
    """The page was read but holds no article text."""


class EngineError(NarratorError):
    """A speech engine is unknown, unavailable or failed."""

    exit_code = 3


class UnknownEngine(EngineError):
    pass


class UnknownVoice(EngineError):
    pass


class AudioError(NarratorError):
    """Encoding or writing the audio failed."""

    exit_code = 4


class TimeLimitError(NarratorError):
    """A piece of work ran past the time it was given (an article in a batch, a server job)."""

    exit_code = 5


def disk_full(exc: BaseException) -> bool:
    """Whether a failure comes from a full disk (ENOSPC, EDQUOT, SQLite's "database or disk
    is full"), however it was wrapped: a condition to report in one line and retry, no bug."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if type(exc).__name__ == "OperationalError" and "disk is full" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
