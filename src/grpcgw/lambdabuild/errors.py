"""The one exception of the Lambda build."""


class BuildError(Exception):
    """The build cannot go on; the message says why in one line."""
