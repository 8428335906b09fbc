"""Sample tunes from a trained run and from the same network untrained.

Uses the newest run under outputs/runs unless --run names one; the model's
settings come from the run, so no model options are repeated here. Writes
outputs/generated/TIME-RUN/trained/ and .../untrained/, each tune as .abc
and, where it converts, .mid, then prints a table of what each side made.
"""

from __future__ import annotations

import argparse
import logging
import re
import time
from pathlib import Path

from musicgen.errors import UserError
from musicgen.files import fresh_directory
from musicgen.runs import DEFAULT_OUTPUTS, find_run

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``generate`` to ``parser``."""
    parser.add_argument("--run", type=Path, help="run folder to sample from (default: the newest)")
    parser.add_argument("--count", type=int, default=10, help="tunes per side (default 10)")
    parser.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="divides the logits: below 1 is safer, above 1 wilder (default 1.0)",
    )
    parser.add_argument(
        "--top-k", type=int, default=0, help="draw only from the k likeliest characters (0: all)"
    )
    parser.add_argument(
        "--top-p",
        type=float,
        default=1.0,
        help="draw only from the likeliest characters whose probabilities add up to p (1: all)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the draws and untrained weights (default 0: the same tunes on every "
        "run; give another number for new ones)",
    )
    parser.add_argument(
        "--max-length", type=int, default=1000, help="characters per tune at most (default 1000)"
    )
    parser.add_argument(
        "--max-bars",
        type=int,
        default=0,
        help="end each tune after this many bars, counted by bar lines in the tune body, a "
        "pickup bar included; constrained sampling may add a bar to close a repeat "
        "(default 0: no limit)",
    )
    parser.add_argument("--meter", help="meter of every tune, such as 6/8 or C| (writes M: and L:)")
    parser.add_argument("--key", help="key of every tune, such as D, Ador or Dmix (writes K:)")
    parser.add_argument("--rhythm", help="rhythm of every tune, such as jig or reel (writes R:)")
    parser.add_argument(
        "--prime",
        default="",
        help="ABC text every tune starts with, after the header that --meter, --key and "
        "--rhythm write, such as 'M:6/8\\nK:D\\n' ('\\n' is a line break)",
    )
    parser.add_argument(
        "--program",
        type=int,
        default=0,
        help="General MIDI program, 0 to 127 (default 0, acoustic grand piano)",
    )
    parser.add_argument(
        "--sampling",
        choices=("constrained", "plain"),
        default="constrained",
        help="how the trained model samples: 'constrained' masks, before every character, "
        "what would break strict ABC or the bar lengths, and takes up to about 2 times as "
        "long; "
        "'plain' draws freely (default constrained)",
    )
    parser.add_argument(
        "--untrained-sampling",
        choices=("constrained", "plain"),
        default="plain",
        help="how the untrained model samples (default plain, the honest baseline)",
    )
    parser.add_argument(
        "--wav",
        action="store_true",
        help="also render each .mid to .wav (fluidsynth with a General MIDI soundfont when "
        "installed, else a simple numpy synthesiser)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUTS,
        help="folder with runs/ and that receives generated/ (default: outputs)",
    )


def main(args: argparse.Namespace) -> int:
    """Run ``generate`` and print the table of both sides."""
    if args.count < 1:
        raise UserError(f"--count must be at least 1, got {args.count}")
    if not 0 <= args.program <= 127:
        raise UserError(
            f"--program must be a General MIDI program from 0 to 127, got {args.program}"
        )
    run = find_run(args.run, args.output_dir)

    from musicgen.config import TrainConfig
    from musicgen.constrain.masked import InvalidPrimerError
    from musicgen.generate import conditioning_primer, sample_side, write_side
    from musicgen.model import build_model, load_model
    from musicgen.sample import Sampler, SamplingSettings
    from musicgen.train import seed_everything
    from musicgen.vocab import UnknownCharacterError, Vocabulary

    try:
        settings = SamplingSettings(
            args.temperature, args.top_k, args.top_p, args.max_length, args.seed, args.max_bars
        )
        header = conditioning_primer(args.meter, args.key, args.rhythm)
    except ValueError as error:
        raise UserError(str(error)) from error
    extra = args.prime.replace("\\n", "\n")
    for option, value, fields in (
        ("--meter", args.meter, "ML"),
        ("--key", args.key, "K"),
        ("--rhythm", args.rhythm, "R"),
    ):
        clash = value and re.search(rf"(?m)^[{fields}]:", extra)
        if clash:
            raise UserError(
                f"--prime sets {clash.group(0)} again after {option} {value}; "
                f"give it in one of the two"
            )
    prime = header + extra
    # The key and meter in the primer stay fixed for the whole tune. Under
    # the state machine the body may set K:, M:, L: and Q: only where the
    # header left them out, once each, before the music (see AbcState).
    # Q: is among them because a network that may not write the K: it
    # expects after M: and L: otherwise writes Q: lines one after another.
    fixed = "KMLQ" if re.search(r"(?m)^[KML]:", prime) else ""
    config = TrainConfig.load(run.config)
    vocab = Vocabulary.load(run.vocab)
    for text, options in ((header, "--meter, --key or --rhythm"), (prime, "--prime")):
        unknown = vocab.unknown_characters(text)
        if unknown:
            raise UserError(str(UnknownCharacterError(unknown, what=options)))

    print(f"run: {run.root}")
    trained_model = load_model(str(run.best_model))
    seed_everything(args.seed)
    untrained_model = build_model(config.model)

    drawing = f"temperature {settings.temperature}"
    if settings.top_k:
        drawing += f", top-k {settings.top_k}"
    if settings.top_p < 1:
        drawing += f", top-p {settings.top_p}"
    sampled = []
    for name, model, sampling in (
        ("trained", trained_model, args.sampling),
        ("untrained", untrained_model, args.untrained_sampling),
    ):
        try:
            samples = sample_side(
                Sampler(model, vocab),
                args.count,
                settings,
                prime,
                sampling == "constrained",
                fixed_fields=fixed,
            )
        except InvalidPrimerError as error:
            raise UserError(f"--prime, --meter, --key or --rhythm: {error}") from error
        sampled.append((name, f"{sampling} sampling, {drawing}", samples))

    # The folder is made only once both sides have sampled, so a failed
    # command leaves no empty folder behind.
    folder = fresh_directory(
        args.output_dir / "generated", f"{time.strftime('%Y%m%d-%H%M%S')}-{run.root.name}"
    )
    sides = [
        write_side(name, mode, samples, folder / name, program=args.program)
        for name, mode, samples in sampled
    ]

    _print_summary(sides, args.count)
    if args.wav:
        _render_audio(sides)
    return 0


def _render_audio(sides: list) -> None:
    from musicgen.audio import RenderError, render_wav

    used: set[str] = set()
    failures = 0
    for side in sides:
        for song in side.songs:
            if song.midi_path is None:
                continue
            try:
                used.add(render_wav(song.midi_path, song.midi_path.with_suffix(".wav")))
            except RenderError as error:
                failures += 1
                logger.warning("%s", error)
    renderers = " and ".join(sorted(used)) or "nothing"
    print(f"rendered .wav files with {renderers}" + (f"; {failures} failed" if failures else ""))


def _print_summary(sides: list, count: int) -> None:
    print()
    print(f"{'side':<10} {'extracted':>9} {'parsed':>7} {'converted':>9}  folder")
    for side in sides:
        print(
            f"{side.name:<10} {side.extracted:>5}/{count:<3} {side.parsed:>3}/{count:<3} "
            f"{side.converted:>5}/{count:<3}  {side.folder}"
        )
    print()
    for side in sides:
        print(f"{side.name}: {side.mode}")
        if side.converted == 0:
            print(
                f"  the {side.name} model wrote no tune that converts to MIDI; "
                "its raw samples are in the .abc files"
            )
    print(
        "extracted: has a K: field and notes; parsed: strict ABC 2.1 parse; "
        "converted: written as .mid"
    )
