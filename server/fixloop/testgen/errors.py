"""Why no tests could be offered (the message is shown to the user as is)."""


class TestGenError(Exception):
    """The tests cannot be generated: the message says why and what to do."""

    __test__ = False  # not a pytest test class, despite the name
