"""Command line: ``python -m explorer list|show|types|validate|schema|estimate|queue|simulate``.

Bad arguments get one line on stderr and exit code 2; invalid pattern files
exit 1 with every message. Never a traceback for a user error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import orjson

from explorer import day_cli, export_cli
from explorer.engine import queueing
from explorer.engine.analysis import analyse
from explorer.engine.availability import availability
from explorer.engine.failures import what_if
from explorer.errors import ExplorerError, PatternError, UsageError
from explorer.model import library
from explorer.model.choice import parse_models, with_models
from explorer.model.loader import builtin_paths, load_catalog, load_pattern
from explorer.model.scenario import parse_number, parse_sets
from explorer.model.schema import schema_text
from explorer.model.whatif import parse_failures
from explorer.render.text import report_text
from explorer.study.resilience import availability_line, whatif_lines
from explorer.units import fmt
from explorer.validate import check_estimates


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m explorer", description="ML system design architectures: validate, inspect and size them.")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("list", help="list the built-in patterns")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("show", help="show a pattern's parameters and components")
    p.add_argument("pattern")
    p = sub.add_parser("types", help="list the catalog's component types")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("validate", help="validate pattern files and estimate them at the defaults and every "
                       "parameter's min and max (exit 1 with the messages when invalid)")
    p.add_argument("files", nargs="+")
    sub.add_parser("schema", help="print the JSON Schema of a pattern file")
    p = sub.add_parser("estimate", help="capacity estimate of a pattern at a scenario")
    p.add_argument("pattern", help="built-in id or path to a YAML file")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--model", action="append", default=[], metavar="COMPONENT=FAMILY",
                   help="run a model family on a component that offers a choice (repeatable), e.g. ranker=lr")
    p.add_argument("--mode", choices=["provisioned", "autosize"], default="provisioned")
    p.add_argument("--fail", action="append", default=[], metavar="COMPONENT[=down|slow:K|zone|cold]",
                   help="what if a component is down, K× slower, loses one zone or goes cold (repeatable); "
                        "adds availability and the what-if to the output")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("queue", help="one M/M/c station: figures, and sizing with --sla-ms/--target-utilization")
    p.add_argument("--arrival-rate", required=True, type=_number, metavar="PER_S")
    p.add_argument("--service-ms", required=True, type=_number, metavar="MS")
    p.add_argument("--servers", type=int)
    p.add_argument("--sla-ms", type=_number)
    p.add_argument("--target-utilization", type=_number)
    p.add_argument("--json", action="store_true")
    export_cli.add_parser(sub)
    day_cli.add_parser(sub)
    return ap


def _number(text: str) -> float:
    try:
        return parse_number(text)
    except ExplorerError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except UsageError as exc:
        print(f"python -m explorer: error: {exc}", file=sys.stderr)
        return 2
    except PatternError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ExplorerError as exc:
        print(f"python -m explorer: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into head
        return 0


def _run(args) -> int:
    cmd = args.command
    if cmd == "list":
        rows = []
        for path in builtin_paths():
            rp = load_pattern(path)
            p = rp.pattern
            rows.append({"id": p.id, "title": p.title, "kind": p.kind, "chapter": p.chapter,
                         "components": len(p.components), "tags": p.tags})
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            for kind, heading in (("case_study", "Case studies"), ("building_block", "Building blocks")):
                items = [r for r in rows if r["kind"] == kind]
                if items:
                    print(f"{heading}:")
                    for r in sorted(items, key=lambda r: (r["chapter"] or 0, r["id"])):
                        ch = f"ch{r['chapter']} " if r["chapter"] else ""
                        print(f"  {r['id']:<30} {ch}{r['title']}")
        return 0
    if cmd == "types":
        cat = load_catalog()
        if args.json:
            print(json.dumps({k: v.model_dump() for k, v in sorted(cat.types.items())}, indent=2))
        else:
            for k, t in sorted(cat.types.items()):
                print(f"{k:<26} {t.category:<11} {t.hardware:<8} {t.label}")
        return 0
    if cmd == "schema":
        sys.stdout.write(schema_text())
        return 0
    if cmd == "validate":
        bad = 0
        for f in args.files:
            try:
                rp = load_pattern(f)
            except PatternError as exc:
                bad += 1
                print(str(exc), file=sys.stderr)
                continue
            problems = check_estimates(rp)
            if problems:
                bad += 1
                print(str(PatternError(problems)), file=sys.stderr)
                continue
            n_scenarios = 2 * (1 + 2 * len(rp.pattern.parameters))
            print(f"{f}: ok ({len(rp.pattern.components)} components, {len(rp.pattern.connections)} connections; "
                  f"estimated in {n_scenarios} scenarios)")
            for w in rp.warnings:
                print(f"{f}: warning: {w}")
        return 1 if bad else 0
    if cmd == "show":
        rp = library.load(args.pattern)
        return _show(rp)
    if cmd == "estimate":
        rp = library.load(args.pattern)
        values = parse_sets(rp, args.set)
        rp = with_models(rp, parse_models(rp, args.model))
        failures = parse_failures(rp, args.fail)
        report = analyse(rp, values, args.mode)
        if failures:
            return _what_if(rp, values, args, report, failures)
        if args.json:
            print(report.to_json())
        else:
            print(report_text(report))
            avail = availability(rp, report)
            if avail is not None:
                print(availability_line(avail))
        return 0
    if cmd == "queue":
        return _queue(args)
    if cmd == "export":
        return export_cli.run(args)
    if cmd == "simulate":
        return day_cli.run(args)
    raise UsageError(f"unknown command {cmd!r}")


def _what_if(rp, values, args, report, failures) -> int:
    """``estimate --fail``: the estimate, the availability and the what-if (JSON: two more keys)."""
    w = what_if(rp, values, args.mode, failures, baseline=report)
    avail = availability(rp, report)
    if args.json:
        out = report.to_dict()
        out["availability"] = avail.to_dict() if avail is not None else None
        out["what_if"] = w.to_dict()
        print(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
        return 0
    print(report_text(report))
    if avail is not None:
        print(availability_line(avail))
    print()
    print("\n".join(whatif_lines(w)))
    return 0


def _show(rp) -> int:
    p = rp.pattern
    print(f"{p.title} ({p.id}, {p.kind.replace('_', ' ')})")
    if p.summary:
        print(p.summary.strip())
    print("\nParameters:")
    for q in p.parameters:
        print(f"  {q.name:<22} default {fmt(q.default)} {q.unit}  range {fmt(q.min)}–{fmt(q.max)} ({q.scale})")
    print("\nComponents:")
    for c in p.components:
        print(f"  {c.id:<22} {c.type:<24} replicas {c.replicas}")
    print("\nConnections:")
    for cn in p.connections:
        print(f"  {cn.source} → {cn.target} [{cn.kind}] calls {cn.calls} items {cn.items}")
    return 0


def _queue(args) -> int:
    lam, s_ms = args.arrival_rate, args.service_ms
    if lam < 0:
        raise UsageError("--arrival-rate must be ≥ 0")
    if s_ms <= 0:
        raise UsageError("--service-ms must be > 0")
    if args.servers is not None and args.servers < 0:
        raise UsageError("--servers must be ≥ 0")
    if args.target_utilization is not None and not 0 < args.target_utilization <= 1:
        raise UsageError("--target-utilization must be in (0, 1]")
    if args.sla_ms is not None and args.sla_ms <= 0:
        raise UsageError("--sla-ms must be > 0")
    sizing = None
    if args.sla_ms is not None or args.target_utilization is not None:
        sizing = queueing.size_servers(lam, s_ms, target_utilization=args.target_utilization,
                                       p99_target_ms=args.sla_ms)
    servers = args.servers
    if servers is None:
        if sizing is None:
            raise UsageError("give --servers, or --sla-ms and/or --target-utilization to size the station")
        servers = sizing.min_servers
    out: dict = {"arrival_rate_per_s": lam, "service_ms": s_ms, "servers": servers}
    if servers is not None:
        st = queueing.station(lam, s_ms, servers)
        out.update({"utilization": st.utilization if st.utilization != float("inf") else None,
                    "p_wait": st.p_wait, "mean_ms": st.mean_ms,
                    "p50_ms": st.p50_ms, "p99_ms": st.p99_ms, "saturated": st.saturated})
    else:
        out.update({"utilization": None, "p_wait": None, "mean_ms": None, "p50_ms": None, "p99_ms": None,
                    "saturated": None})
    if sizing is not None:
        out.update({"min_servers": sizing.min_servers, "infeasible": sizing.infeasible, "reason": sizing.reason})
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for k, v in out.items():
        print(f"{k:<20} {fmt(v) if not isinstance(v, str) else v}")
    return 0
