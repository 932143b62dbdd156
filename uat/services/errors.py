"""Errors the services raise that callers answer specially."""

from django.core.exceptions import ValidationError

from ..models import Execution


class ConcurrentEditError(ValidationError):
    """Someone else saved the execution after this editor loaded it."""

    def __init__(self, execution: Execution):
        self.current = execution
        super().__init__(
            "Someone else saved this execution after you opened it. Your change was not "
            "saved; the page now shows the current state.",
            code="conflict",
        )
