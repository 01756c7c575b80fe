"""One exception hierarchy for the engine.

Every message is a plain sentence that names where the problem is
(``file:line: path: message``) and, where it helps, what would be valid.
"""

from __future__ import annotations


class ExplorerError(Exception):
    """Base of every error the engine raises on purpose."""


class LocatedError(ExplorerError):
    """An error at a place in a file.

    Parameters
    ----------
    message : str
        What is wrong, in a plain sentence.
    file : str, optional
        File name (shown as given, usually the base name).
    line : int, optional
        1-based line number inside the file.
    path : str, optional
        Path inside the document, e.g. ``connections[3].to``.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 path: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.path = path
        super().__init__(self.format())

    def format(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line:
                where += f":{self.line}"
            where += ": "
        elif self.line:
            where = f"line {self.line}: "
        if self.path:
            where += f"{self.path}: "
        return where + self.message


class PatternError(LocatedError):
    """A pattern file is invalid. ``errors`` holds every problem found (at least one)."""

    def __init__(self, errors: list[LocatedError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.message, file=first.file, line=first.line, path=first.path)

    def format(self) -> str:  # all problems, one per line
        return "\n".join(e.format() for e in getattr(self, "errors", [])) or super().format()

    def __str__(self) -> str:
        return self.format()


class CatalogError(PatternError):
    """A component catalog file is invalid."""


class ExpressionError(ExplorerError):
    """A quantity expression cannot be parsed or evaluated."""


class ScenarioError(ExplorerError):
    """A scenario value (slider, URL, CLI ``--set``) is unknown or out of range."""


class ExportError(ExplorerError):
    """An export could not be produced (bad option, render failure); the message says why."""


class UsageError(ExplorerError):
    """A bad command-line argument (exit 2)."""


class AnalysisTooLarge(ExplorerError):
    """An analysis ran past the deadline its caller gave (``analyse(..., deadline_s=...)``)."""
