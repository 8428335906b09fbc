"""Errors that the command line prints as one message, without a traceback."""


class UserError(Exception):
    """A problem with the user's input, files or options.

    The message says what is wrong, where, and what to do about it.
    """
