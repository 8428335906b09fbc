"""Train a recurrent network on folk tunes in ABC notation, sample new tunes, write them as MIDI."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from musicgen import __version__
from musicgen.errors import UserError

# Each command lives in its own module with ``add_arguments(parser)`` and
# ``main(args) -> int``. They are imported only when chosen, so that
# ``convert`` never imports TensorFlow.
COMMANDS = {
    "train": (
        "musicgen.commands.train",
        "train a model on ABC tunes (default: the bundled O'Neill's collection)",
    ),
    "generate": (
        "musicgen.commands.generate",
        "sample tunes as ABC and MIDI from the newest trained run and from the same "
        "network untrained",
    ),
    "convert": ("musicgen.commands.convert", "convert ABC files to MIDI without any model"),
    "evaluate": (
        "musicgen.commands.evaluate",
        "compare a run's sampled tunes with held-out real tunes and write a report",
    ),
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; the chosen command's module adds its own options."""
    parser = argparse.ArgumentParser(
        prog="musicgen",
        description=__doc__,
        epilog="Run 'python -m musicgen COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"musicgen {__version__}")
    _add_verbosity(parser, default_verbose=0, default_quiet=False)
    # The same flags after the command name; SUPPRESS keeps the values given before it.
    common = argparse.ArgumentParser(add_help=False)
    _add_verbosity(common, default_verbose=argparse.SUPPRESS, default_quiet=argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    subparsers.required = True

    # Only the chosen command's module is imported; the others get a bare help line.
    arguments = list(argv if argv is not None else sys.argv[1:])
    chosen = _chosen_command(arguments)
    commands: dict[str, argparse.ArgumentParser] = {}
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text, parents=[common])
        commands[name] = sub
        if name == chosen:
            module = importlib.import_module(module_name)
            sub.description = module.__doc__
            sub.formatter_class = argparse.RawDescriptionHelpFormatter
            module.add_arguments(sub)
            sub.set_defaults(handler=module.main)
    args, unknown = parser.parse_known_args(arguments)
    if unknown:
        # argparse reports a command's unknown options with the top-level usage;
        # the usage of the command they follow is the one that helps.
        before = arguments[: arguments.index(args.command)]
        owner = parser if any(token in before for token in unknown) else commands[args.command]
        owner.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _add_verbosity(
    parser: argparse.ArgumentParser, default_verbose: object, default_quiet: object
) -> None:
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default_verbose,
        help="log more detail (-vv for debug)",
    )
    verbosity.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default_quiet,
        help="print only warnings, errors and results",
    )


def _chosen_command(argv: Sequence[str]) -> str | None:
    for token in argv:
        if token in COMMANDS:
            return token
    return None


def configure_logging(verbose: int, quiet: bool) -> None:
    """Send musicgen's log records to standard error at the level the flags ask for."""
    if quiet:
        level = logging.WARNING
    elif verbose >= 2:
        level = logging.DEBUG
    else:
        level = logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)
    if verbose < 2:
        # TensorFlow's C++ start-up messages, such as "failed call to cuInit" on a
        # machine without a GPU, are noise to users of the command line.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


# Commands that import TensorFlow.
_TENSORFLOW_COMMANDS = frozenset(("train", "generate", "evaluate"))


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with the process's standard error closed, then reopen it.

    TensorFlow 2.21 prints absl and oneDNN lines while it loads, even with
    TF_CPP_MIN_LOG_LEVEL set to 3. An import error still reaches the user, as
    the Python exception raised after standard error is back.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    silent = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(silent, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(silent)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status."""
    args = parse_args(argv)
    configure_logging(args.verbose, args.quiet)
    if args.command in _TENSORFLOW_COMMANDS and args.verbose < 2:
        import_tensorflow_quietly()
    try:
        status: int = args.handler(args)
    except UserError as error:
        print(f"musicgen {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"musicgen {args.command}: interrupted", file=sys.stderr)
        return 130
    return status


def run() -> None:
    """Entry point of the ``musicgen`` console script."""
    sys.exit(main())
