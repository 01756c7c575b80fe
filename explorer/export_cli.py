"""``python -m explorer export PATTERN --format svg|png|pdf|dot|mermaid|md|json|pack|anki``.

Text formats go to stdout when no ``-o`` is given; binary formats (PNG, PDF,
the pack, the Anki deck) need ``-o`` unless stdout is a pipe or a file. ``-o`` may
name a file (replaced: the user named it) or a directory (the file gets its
descriptive name there, ``<pattern>-<scenario hash>.<ext>``, and an existing file
is never replaced without ``--force``). A Markdown note exported into a directory
gets its diagram beside it as an SVG, linked from the note.
Bad arguments: one line on stderr, exit 2. A render failure: one line, exit 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from explorer.engine.day import day_options, parse_spike, simulate
from explorer.errors import ExplorerError, ExportError, PatternError
from explorer.export import DEFAULT_DPI, FORMATS, MAX_DPI, MIN_DPI, export, filename, view_ids
from explorer.model.choice import parse_models, with_models
from explorer.model.library import locate
from explorer.model.loader import load_pattern
from explorer.model.scenario import parse_sets
from explorer.model.whatif import parse_failures
from explorer.render.styles import DrawOptions
from explorer.study.day_note import day_markdown


class ExportUsageError(ExplorerError):
    """A bad export argument (exit 2)."""


def add_parser(sub) -> None:
    """Add the ``export`` subcommand to the CLI's subparsers."""
    p = sub.add_parser("export", help="export a diagram, a Markdown study note, JSON, a study pack or an Anki deck",
                       description="Export a pattern at a scenario for study notes. Text formats print to stdout "
                                   "without -o; binary formats need -o (or a pipe).")
    p.add_argument("pattern", help="built-in id or path to a YAML file")
    p.add_argument("--format", "-f", required=True, choices=list(FORMATS), dest="format",
                   help="svg, png, pdf, dot, mermaid, md (study note), json (analysis), pack (zip of all patterns) "
                        "or anki (deck of the 7-step notes and estimation questions)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a parameter value (repeatable)")
    p.add_argument("--model", action="append", default=[], metavar="COMPONENT=FAMILY",
                   help="a model family for a component that offers a choice (repeatable)")
    p.add_argument("--mode", choices=["provisioned", "autosize"], default="provisioned")
    p.add_argument("--view", default="overview", help="view id (overview, serving, offline or the pattern's own)")
    p.add_argument("--dpi", type=_dpi, default=None, metavar="N", help=f"PNG resolution, {MIN_DPI}–{MAX_DPI} (default {DEFAULT_DPI})")
    p.add_argument("--theme", choices=["light", "dark"], default="light")
    p.add_argument("--no-color", action="store_true", help="do not colour components by status")
    p.add_argument("--select", metavar="COMPONENT", default=None, help="highlight one component")
    p.add_argument("--fail", action="append", default=[], metavar="COMPONENT[=down|slow:K|zone|cold]",
                   help="a what-if failure the study note reports on (md only; repeatable)")
    p.add_argument("-o", "--output", metavar="PATH", default=None,
                   help="file to write, or a directory to write a descriptively named file into")
    p.add_argument("--force", action="store_true", help="replace an existing file in the -o directory")
    p.add_argument("--day", action="store_true", help="md: add a day of traffic (as `simulate --md`) to the note")
    p.add_argument("--spike", action="append", default=[], metavar="K:MINUTES[@HOUR]",
                   help="md: a spike in that day (repeatable; implies --day)")


def _dpi(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not MIN_DPI <= value <= MAX_DPI:
        raise argparse.ArgumentTypeError(f"must be between {MIN_DPI} and {MAX_DPI} (got {text})")
    return value


def run(args) -> int:
    """Run ``export`` (:mod:`explorer.cli` calls it for the ``export`` command)."""
    if getattr(args, "command", None) != "export":
        raise ExportUsageError(f"unknown command {getattr(args, 'command', None)!r}")

    fmt = FORMATS[args.format]
    if args.dpi is not None and args.format != "png":
        raise ExportUsageError("--dpi applies to --format png only")
    try:
        where = locate(args.pattern)
    except PatternError as exc:
        raise ExportUsageError(str(exc)) from None
    rp = load_pattern(where.path, user=where.user)
    values = parse_sets(rp, args.set)
    rp = with_models(rp, parse_models(rp, args.model))
    failures = parse_failures(rp, args.fail)
    if failures and args.format != "md":
        raise ExportUsageError("--fail applies to --format md only (the study note reports on the what-if)")
    if args.view not in view_ids(rp):
        raise ExportUsageError(f"{rp.id} has no view {args.view!r} (views: {', '.join(view_ids(rp))})")
    if args.select is not None and args.select not in rp.graph:
        known = ", ".join(list(rp.graph.nodes)[:12])
        raise ExportUsageError(f"--select: {rp.id} has no component {args.select!r} (known: {known})")

    if (args.day or args.spike) and args.format != "md":
        raise ExportUsageError("--day and --spike apply to --format md only")
    target = _target(args, rp, values, fmt)
    if target is None and fmt.binary and sys.stdout.isatty():
        raise ExportUsageError(f"{fmt.title} is binary: give -o PATH (or redirect stdout to a file)")
    progress = None
    if args.format == "pack" and sys.stderr.isatty():
        def progress(done: int, total: int, label: str) -> None:
            sys.stderr.write(f"\r  {done}/{total} {label:<40}")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
    options = DrawOptions(view=args.view, selected=args.select, theme=args.theme, colored=not args.no_color)
    image = None
    if target is not None and args.format == "md" and _into_directory(args):
        image = target.parent / filename(rp, values, "svg", mode=args.mode, view=args.view)
        if image.exists() and not args.force:
            raise ExportUsageError(f"{image} exists; add --force to replace it")
    try:
        data = export(rp, values, args.mode, args.format, options, dpi=args.dpi or DEFAULT_DPI, progress=progress,
                      failures=failures, image=image.name if image is not None else None)
        picture = export(rp, values, args.mode, "svg", options) if image is not None else None
        if args.day or args.spike:
            data += b"\n" + _day_section(rp, values, args)
    except ExportError as exc:
        print(f"python -m explorer: error: {exc}", file=sys.stderr)
        return 1
    if target is None:
        out = sys.stdout.buffer
        out.write(data)
        out.flush()
        return 0
    if image is not None and picture is not None:
        _write(image, picture)
        print(f"wrote {image} ({_size(len(picture))})", file=sys.stderr)
    _write(target, data)
    print(f"wrote {target} ({_size(len(data))})", file=sys.stderr)
    return 0


def _into_directory(args) -> bool:
    """``-o`` names a directory: the file gets its descriptive name there."""
    return Path(args.output).expanduser().is_dir() or args.output.endswith(("/", os.sep))


def _day_section(rp, values, args) -> bytes:
    """The note's day of traffic (``--day``/``--spike``), as ``simulate --md`` prints it."""
    try:
        spikes = [parse_spike(s) for s in args.spike]
    except ExplorerError as exc:
        raise ExportUsageError(f"--spike: {exc}") from None
    return day_markdown(simulate(rp, values, day_options(rp, spikes=spikes))).encode()


def _target(args, rp, values, fmt) -> Path | None:
    if args.output is None or args.output == "-":
        return None
    out = Path(args.output).expanduser()
    if _into_directory(args):
        if not out.is_dir():
            raise ExportUsageError(f"-o {args.output}: no such directory")
        target = out / filename(rp, values, args.format, mode=args.mode, view=args.view)
        if target.exists() and not args.force:
            raise ExportUsageError(f"{target} exists; name the file with -o, or add --force to replace it")
        return target
    if not out.parent.is_dir():
        raise ExportUsageError(f"-o {args.output}: the directory {out.parent} does not exist")
    return out


def _write(target: Path, data: bytes) -> None:
    """Write atomically (temporary file in the same folder, then rename), with the usual permissions."""
    umask = os.umask(0)
    os.umask(umask)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=str(target.parent))
    except OSError as exc:
        raise ExportUsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ExportUsageError(f"cannot write {target}: {exc.strerror or exc}") from None


def _size(n: int) -> str:
    return f"{n:,} bytes" if n < 10_000 else f"{n / 1024:,.0f} KiB"
