"""The two kinds of error the core raises: a user's answer it cannot take, and a broken flow file."""

from __future__ import annotations

from typing import Any


class AnswerError(ValueError):
    """An answer that cannot be accepted; `code` names the Danish message template, `params` fill it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class FlowError(ValueError):
    """A flow file that is not what the loader expects; the message names the file and the node."""
