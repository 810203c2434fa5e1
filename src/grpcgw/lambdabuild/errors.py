"""The exceptions of the Lambda build and of running a built zip."""


class BuildError(Exception):
    """The build cannot go on; the message says why in one line."""


class InvokeError(Exception):
    """A built zip cannot run here, or its function failed; the message says why in one line."""
