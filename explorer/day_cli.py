"""``python -m explorer simulate PATTERN [--set NAME=VALUE …] [--spike K:MINUTES[@HOUR] …] [--json|--md]``.

A day of traffic over a pattern (:mod:`explorer.engine.day`): 1,440 one-minute points with traffic, replicas,
utilisation, p99 and cost per component and end to end, and the day's totals. Text output is a summary and
an hourly table; ``--json`` gives every minute; ``--md`` the section for a study note.
"""

from __future__ import annotations

import argparse

from explorer.engine.day import MODES, day_options, parse_spike, simulate
from explorer.errors import ExplorerError, UsageError
from explorer.model import library
from explorer.model.scenario import parse_number, parse_sets
from explorer.study.day_note import day_markdown, day_text


def add_parser(sub) -> None:
    """Add the ``simulate`` subcommand to the CLI's subparsers."""
    p = sub.add_parser("simulate", help="a day of traffic: 1,440 one-minute points (traffic, replicas, "
                       "utilisation, p99, cost) and the day's totals",
                       description="A fluid model of a day over the pattern: a diurnal curve, spikes, batch windows "
                                   "and autoscaling (the pattern's day: block, or defaults).")
    p.add_argument("pattern", help="built-in id or path to a YAML file")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a parameter value (repeatable)")
    p.add_argument("--spike", action="append", default=[], metavar="K:MINUTES[@HOUR]",
                   help="traffic × K for MINUTES minutes from HOUR (default: the peak hour); repeatable")
    p.add_argument("--mode", choices=list(MODES), default="autoscale",
                   help="autoscale (default) or the pattern's provisioned replicas all day")
    p.add_argument("--peak-to-trough", type=_number, default=None, metavar="RATIO")
    p.add_argument("--peak-hour", type=_number, default=None, metavar="HOUR")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="every minute as JSON")
    out.add_argument("--md", action="store_true", help="the day as a Markdown section for a study note")


def _number(text: str) -> float:
    try:
        return parse_number(text)
    except ExplorerError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args) -> int:
    """Run ``simulate`` (:mod:`explorer.cli` calls it)."""
    rp = library.load(args.pattern)
    values = parse_sets(rp, args.set)
    try:
        spikes = [parse_spike(s) for s in args.spike]
    except ExplorerError as exc:
        raise UsageError(f"--spike: {exc}") from None
    options = day_options(rp, spikes=spikes, peak_to_trough=args.peak_to_trough, peak_hour=args.peak_hour,
                          mode=args.mode)
    day = simulate(rp, values, options)
    if args.json:
        print(day.to_json())
    elif args.md:
        print(day_markdown(day))
    else:
        print(day_text(day))
    return 0
