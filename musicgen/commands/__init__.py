"""One module per command line command, each with ``add_arguments`` and ``main``."""
