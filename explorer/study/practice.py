"""Study: the 7-step walk-through of a pattern's notes, "find the bottleneck" puzzles and
back-of-the-envelope questions, all generated from the pattern and the engine.

Every answer is a figure the engine computed (:class:`~explorer.engine.report.Figure`), so the
explanation shown after an answer is that figure's trace. Generation is deterministic
given a seed: the same pattern and seed give the same scenario and questions.

Examples
--------
>>> from explorer.model.library import load
>>> rp = load("two_stage_recommender")
>>> qs = generate_questions(rp, seed=3, n=4)
>>> [q.id for q in qs] == [q.id for q in generate_questions(rp, seed=3, n=4)]
True
>>> q = qs[0]
>>> check_answer(q, q.answer).correct, check_answer(q, q.answer * 3 + 10).correct
(True, False)
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from explorer.engine.analysis import HOURS_PER_MONTH, USABLE_MEMORY_FRACTION, analyse
from explorer.engine.failures import WhatIf, what_if
from explorer.engine.ml import traffic_from_users
from explorer.engine.report import ComponentReport, Figure, Report
from explorer.errors import ExplorerError, ScenarioError
from explorer.model.choice import family, selectors, source_of, with_models
from explorer.model.expressions import evaluate
from explorer.model.loader import ResolvedPattern
from explorer.model.pattern import Parameter
from explorer.model.scenario import check_values, parse_number
from explorer.model.whatif import parse_failures
from explorer.units import fmt

# --------------------------------------------------------------------------- the 7 steps


@dataclass(frozen=True)
class StepInfo:
    """One step of the framework."""

    number: int
    key: str
    """Field of :class:`explorer.model.pattern.Notes`."""
    title: str
    prompt: str
    """What to ask yourself at this step."""


STEPS: tuple[StepInfo, ...] = (
    StepInfo(1, "requirements", "Clarify the requirements",
             "What is the business goal? Which features, how much data, what scale (users, items, QPS) "
             "and which constraints (latency, cost, privacy)?"),
    StepInfo(2, "framing", "Frame the problem as an ML task",
             "What is the ML objective, what goes in and what comes out, and which category of ML is it?"),
    StepInfo(3, "data", "Prepare the data",
             "Where do the data and the labels come from, and which features describe users, items and context?"),
    StepInfo(4, "model", "Develop the model",
             "Which models fit, what are their trade-offs, and how are they trained?"),
    StepInfo(5, "evaluation", "Evaluate",
             "Which offline metrics, which online metrics, and how do they connect?"),
    StepInfo(6, "serving", "Deploy and serve",
             "Batch or online prediction? What is precomputed, cached or sharded, and how is it rolled out?"),
    StepInfo(7, "monitoring", "Monitor and maintain",
             "What drifts, what is watched and alerted on, and when is the model retrained?"),
)


@dataclass(frozen=True)
class StudyStep:
    """One screen of the walk-through."""

    number: int
    key: str
    title: str
    prompt: str
    text: str
    """The pattern's notes for this step (Markdown), or an empty string."""
    facts: tuple[str, ...] = ()
    """Numbers from the engine that belong to this step, each as a traced line."""
    talking_points: tuple[str, ...] = ()


def walkthrough(rp: ResolvedPattern, report: Report | None = None) -> list[StudyStep]:
    """The 7 steps of the pattern's notes plus a wrap-up with the talking points.

    ``report`` (the default scenario's analysis) adds engine facts to the steps it concerns:
    the scale parameters to step 1, the data held to step 3, the latency and bottlenecks to
    step 6, the busiest components to step 7.
    """
    notes = rp.pattern.notes
    report = report if report is not None else _safe_report(rp)
    steps = []
    for info in STEPS:
        text = (getattr(notes, info.key) or "").strip()
        steps.append(StudyStep(info.number, info.key, info.title, info.prompt, text, _facts(rp, report, info.key)))
    points = tuple(notes.talking_points)
    steps.append(StudyStep(len(STEPS) + 1, "talking_points", "Wrap-up: talking points",
                           "What would an interviewer expect to hear? Say each point in your own words.",
                           "", (), points))
    return steps


def _safe_report(rp: ResolvedPattern) -> Report | None:
    try:
        return analyse(rp)
    except ExplorerError:
        return None


def _facts(rp: ResolvedPattern, r: Report | None, key: str) -> tuple[str, ...]:
    out: list[str] = []
    p = rp.pattern
    if key == "requirements":
        for q in p.parameters:
            if q.role in ("traffic", "latency", "data"):
                unit = f" {q.unit}" if q.unit else ""
                out.append(f"{q.label}: {fmt(q.default)}{unit} (range {fmt(q.min)}–{fmt(q.max)}; source: {q.source})")
    if r is None:
        return tuple(out)
    if key == "data":
        for c in r.components.values():
            f = c.figures.get("shards")
            if f is not None and f.inputs:
                out.append(f"{c.label}: {f.explain()}")
            elif c.storage_gb:
                out.append(f"{c.label}: {c.figures['storage_gb'].explain()}")
    elif key == "model":
        for c in r.components.values():
            if c.category in ("ranking", "retrieval") or c.hardware == "gpu":
                out.append(f"{c.label}: {c.figures['service_ms'].explain()}")
    elif key == "serving":
        e = r.end_to_end
        if e is not None:
            f = e.figures.get("p99_ms")
            if f is not None:
                out.append(f.explain())
            out.append("Critical path: " + " → ".join(e.critical_path))
        for b in r.bottlenecks[:2]:
            out.append(f"Bottleneck {b.rank}: {b.reason} → {b.advice}")
        out.append(r.totals.figures["cost_usd_month"].explain())
    elif key == "monitoring":
        busy = sorted((c for c in r.components.values() if c.status not in ("external", "idle")),
                      key=lambda c: -c.utilization)[:3]
        for c in busy:
            out.append(f"{c.label}: {c.figures['utilization'].explain()}")
        for j in r.batch_jobs:
            out.append(f"{j.label}: {j.figures['fits_window'].explain()}")
    return tuple(out)


# --------------------------------------------------------------------------- helpers


def nice(x: float, up: bool = False) -> float:
    """Round to two significant digits (upwards if ``up``).

    Examples
    --------
    >>> nice(12345), nice(12345, up=True), nice(0.0734)
    (12000.0, 13000.0, 0.073)
    """
    if x == 0 or not math.isfinite(x):
        return x
    e = math.floor(math.log10(abs(x))) - 1
    m = x / 10 ** e
    m = math.ceil(m - 1e-9) if up else round(m)
    return float(round(m * 10 ** e, max(0, -e)))


def _clamp(q: Parameter, x: float) -> float:
    x = min(max(x, q.min), q.max)
    return float(round(x)) if q.integer else x


def traffic_parameter(rp: ResolvedPattern) -> Parameter | None:
    """The parameter that drives traffic: the one named in ``request.peak_qps`` (or ``request.users.dau``), else the
    first ``traffic`` role."""
    params = {q.name: q for q in rp.pattern.parameters}
    req = rp.pattern.request
    driver = (req.peak_qps if req.peak_qps is not None else req.users.dau) if req is not None else None
    if isinstance(driver, str) and driver.strip() in params:
        return params[driver.strip()]
    for q in rp.pattern.parameters:
        if q.role == "traffic":
            return q
    for q in rp.pattern.parameters:
        if q.role == "data":
            return q
    return None


def _random_value(rng: random.Random, q: Parameter, lo: float | None = None, hi: float | None = None) -> float:
    lo = q.min if lo is None else max(q.min, lo)
    hi = q.max if hi is None else min(q.max, hi)
    if hi <= lo:
        return _clamp(q, lo)
    if q.scale == "log" and lo > 0:
        x = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    else:
        x = rng.uniform(lo, hi)
    return _clamp(q, nice(x))


def _serving(c: ComponentReport) -> bool:
    return c.status not in ("external", "idle") and c.servers_per_shard > 0 and c.calls_per_s > 0


# --------------------------------------------------------------------------- find the bottleneck


@dataclass(frozen=True)
class BottleneckPuzzle:
    """A scenario that stresses one component, and the components to choose from."""

    pattern_id: str
    values: dict[str, float]
    mode: str
    parameter: str
    parameter_label: str
    unit: str
    value: float
    answer: str
    """The component that runs out of capacity first (highest utilisation; the engine's #1 bottleneck when saturated)."""
    accepted: tuple[str, ...]
    """Components counted as right (the answer, plus any within 2% of its utilisation)."""
    options: tuple[tuple[str, str], ...]
    """(component id, label) of every component that serves traffic."""
    how: str
    """How the scenario was chosen, in a sentence."""
    report: Report = field(repr=False, compare=False)

    def clues(self) -> list[dict[str, object]]:
        """The inputs a person needs to find the bottleneck by hand (utilisation is left out)."""
        rows = []
        for cid, label in self.options:
            c = self.report.components[cid]
            rows.append({"component": cid, "label": label, "calls/s per shard": round(c.arrival_per_shard_per_s, 3),
                         "service ms": round(c.service_ms, 4), "servers per shard": c.servers_per_shard,
                         "shards": c.shards})
        return rows


@dataclass(frozen=True)
class Verdict:
    """The result of checking an answer."""

    correct: bool
    message: str
    proof: tuple[str, ...]
    """Traced lines (Figure.explain()) that prove the answer."""


def _saturated(r: Report) -> bool:
    return any(c.saturated for c in r.components.values())


def _ranked(r: Report) -> list[ComponentReport]:
    return sorted((c for c in r.components.values() if _serving(c)), key=lambda c: (-c.utilization, c.id))


def bottleneck_puzzle(rp: ResolvedPattern, seed: int = 0, mode: str = "provisioned",
                      attempts: int = 8) -> BottleneckPuzzle | None:
    """A scenario where one component is clearly the top bottleneck.

    Seed 0 keeps the pattern's other parameters at their defaults; other seeds draw the
    model and data parameters at random (deterministically) so that different components
    become the bottleneck. For each draw, the lowest value of the traffic parameter at which
    some component saturates is found by bisection (log scale for log parameters) and raised
    slightly to a round number. The draw whose top component leads the runner-up by the
    widest utilisation margin is kept (the first with a 15% lead wins). If nothing saturates
    in the parameter's range, the busiest component at the top of the range is the answer.

    Returns None when the pattern has no traffic parameter or no component serving traffic.
    """
    q = traffic_parameter(rp)
    if q is None:
        return None
    rng = random.Random(f"bottleneck:{rp.id}:{seed}")
    free = [p for p in rp.pattern.parameters if p.name != q.name and p.role in ("model", "data", "other")]
    best: tuple[float, BottleneckPuzzle] | None = None
    for attempt in range(max(1, attempts)):
        base = rp.defaults()
        if seed != 0 or attempt > 0:
            for p in free:
                if rng.random() < 0.6:
                    base[p.name] = _random_value(rng, p)
        try:
            puzzle, margin = _puzzle_at(rp, q, base, mode)
        except ExplorerError:
            continue
        if puzzle is None:
            continue
        if best is None or margin > best[0]:
            best = (margin, puzzle)
        if margin >= 1.15:
            break
    return best[1] if best else None


def _puzzle_at(rp: ResolvedPattern, q: Parameter, base: dict[str, float],
               mode: str) -> tuple[BottleneckPuzzle | None, float]:
    def run(x: float) -> Report:
        return analyse(rp, {**base, q.name: _clamp(q, x)}, mode)

    log = q.scale == "log" and q.min > 0
    r_hi = run(q.max)
    quality = 1.0
    if not _saturated(r_hi):
        x, r = q.max, r_hi
        quality = 0.5
        how = (f"Nothing saturates even at the top of the {q.label} range, so the scenario is set there; "
               "the answer is the busiest component.")
    else:
        r_lo = run(q.min)
        if _saturated(r_lo):
            x, r = q.min, r_lo
            quality = 0.0  # saturated whatever the traffic: not a traffic story
        else:
            lo, hi = q.min, q.max
            for _ in range(40):
                mid = math.sqrt(lo * hi) if log else (lo + hi) / 2
                if _saturated(run(mid)):
                    hi = mid
                else:
                    lo = mid
                if hi / lo < 1.002 if log else hi - lo < (q.max - q.min) * 1e-4:
                    break
            x = _clamp(q, nice(hi * 1.03, up=True))
            r = run(x)
            if not _saturated(r):
                x = _clamp(q, hi)
                r = run(x)
        how = (f"{q.label} is set just above the lowest value in its range "
               f"({fmt(q.min)}–{fmt(q.max)}) at which a component saturates.")
    changed = [f"{p.label} = {fmt(base[p.name])}{(' ' + p.unit) if p.unit else ''}"
               for p in rp.pattern.parameters if p.name != q.name and base[p.name] != p.default]
    if changed:
        how += " Other parameters changed from their defaults: " + "; ".join(changed) + "."
    ranked = _ranked(r)
    if not ranked:
        return None, 0.0
    # the component that runs out of capacity first: the highest utilisation (the engine's #1 when saturated)
    top = ranked[0].id
    if r.bottlenecks and r.bottlenecks[0].status == "saturated" and r.bottlenecks[0].component in r.components:
        top = r.bottlenecks[0].component
    top_u = r.components[top].utilization
    others = [c.utilization for c in ranked if c.id != top]
    margin = (top_u / others[0] if others and others[0] > 0 else 10.0) * quality
    accepted = tuple(sorted({top} | {c.id for c in ranked if c.utilization >= top_u / 1.02}))
    values = dict(r.values)
    options = tuple((c.id, c.label) for c in r.components.values() if _serving(c))
    return BottleneckPuzzle(rp.id, values, mode, q.name, q.label, q.unit, values[q.name], top, accepted,
                            options, how, r), margin


def check_bottleneck(puzzle: BottleneckPuzzle, choice: str) -> Verdict:
    """Right if the choice is the engine's top bottleneck (or tied with it within 2%)."""
    r = puzzle.report
    ans = r.components[puzzle.answer]
    proof = [_util_line(ans)]
    for extra in ("arrival_per_shard_per_s", "service_ms", "servers"):
        f = ans.figures.get(extra)
        if f is not None:
            proof.append(f"{ans.id}: {f.explain()}")
    if r.bottlenecks:
        b = r.bottlenecks[0]
        proof.append(f"Engine's ranking #1: {b.reason}")
    if choice not in r.components:
        return Verdict(False, f"{choice!r} is not a component of this pattern.", tuple(proof))
    chosen = r.components[choice]
    if choice in puzzle.accepted:
        tie = [a for a in puzzle.accepted if a != puzzle.answer]
        msg = (f"Right: {chosen.label} is the bottleneck at {fmt(puzzle.value)} {puzzle.unit}".rstrip()
               + f" — utilisation {chosen.utilization:.0%}.")
        if tie:
            msg += f" ({', '.join([puzzle.answer] + tie)} are within 2% of each other; any of them counts.)"
        if choice != puzzle.answer:
            proof.insert(0, _util_line(chosen))
        return Verdict(True, msg, tuple(proof))
    runner = [_util_line(chosen)]
    msg = (f"Not quite: {chosen.label} runs at {chosen.utilization:.0%}, but {ans.label} runs at "
           f"{ans.utilization:.0%} and saturates first." if ans.saturated else
           f"Not quite: {chosen.label} runs at {chosen.utilization:.0%}, but {ans.label} is busier at "
           f"{ans.utilization:.0%}.")
    return Verdict(False, msg, tuple(proof + runner))


def _util_line(c: ComponentReport) -> str:
    return f"{c.id}: {c.figures['utilization'].explain()}"


# --------------------------------------------------------------------------- questions


@dataclass(frozen=True)
class Question:
    """A back-of-the-envelope question whose answer is an engine figure."""

    id: str
    kind: str
    component: str
    text: str
    givens: tuple[str, ...]
    answer: float
    unit: str
    rel_tol: float
    abs_tol: float
    figure: Figure = field(repr=False)
    explanation: tuple[str, ...] = ()
    """Traced lines: the answer's figure first, then the figures it was built from."""
    values: dict[str, float] = field(default_factory=dict)
    mode: str = "provisioned"
    percent: bool = False
    """Answer may be typed as a percentage (utilisation)."""
    models: dict[str, str] = field(default_factory=dict)
    """Model families the question's design runs other than the defaults (model-choice questions)."""

    def tolerance_text(self) -> str:
        rel = f"±{self.rel_tol:.0%}"
        if self.abs_tol:
            shown = f"{self.abs_tol:.0%}" if self.percent else fmt(self.abs_tol)
            return f"{rel} (at least ±{shown})"
        return rel


@dataclass(frozen=True)
class AnswerCheck:
    """The verdict on a typed answer."""

    correct: bool
    given: float | None
    message: str
    error: float | None = None
    """(given − answer) ÷ answer, when both are numbers and the answer is not 0."""


def within(answer: float, given: float, rel_tol: float, abs_tol: float = 0.0) -> bool:
    """True if ``given`` is within ``max(rel_tol·|answer|, abs_tol)`` of ``answer``.

    Examples
    --------
    >>> within(100, 114, 0.15), within(100, 116, 0.15), within(2, 3, 0.15, 1)
    (True, False, True)
    """
    return abs(given - answer) <= max(rel_tol * abs(answer), abs_tol) + 1e-12


def parse_answer(text: str, percent: bool = False) -> float:
    """A typed number: ``0.45``, ``45%``, ``12k``, ``1.5M``, ``$3,200``, ``58 GB``.

    With ``percent`` (utilisation questions), a bare number above 1.5 is read as a percentage.

    Raises
    ------
    ScenarioError
        If no number can be read.
    """
    s = str(text).strip().replace("$", "").replace("USD", "").replace("usd", "")
    for unit in ("GB", "gb", "ms", "calls/s", "req/s", "/s", "replicas", "shards", "nodes"):
        if s.endswith(unit):
            s = s[: -len(unit)].strip()
    scale = 1.0
    if s.endswith("%"):
        s, scale = s[:-1].strip(), 0.01
    if not s:
        raise ScenarioError("type a number, e.g. 0.45, 45%, 12k or 1.5M")
    try:
        value = parse_number(s)
    except ScenarioError:
        raise ScenarioError(f"{text!r} is not a number (examples: 0.45, 45%, 12k, 1.5M)") from None
    if percent and scale == 1.0 and value > 1.5:
        scale = 0.01  # "45" for a utilisation means 45%
    return value * scale


def check_answer(question: Question, given: float | str) -> AnswerCheck:
    """Check a typed answer against the engine's figure, within the question's tolerance."""
    if isinstance(given, str):
        try:
            value = parse_answer(given, question.percent)
        except ScenarioError as exc:
            return AnswerCheck(False, None, str(exc))
    else:
        value = float(given)
    ok = within(question.answer, value, question.rel_tol, question.abs_tol)
    err = (value - question.answer) / question.answer if question.answer else None
    shown = _show(question, question.answer)
    if ok:
        msg = f"Right: the engine says {shown} (tolerance {question.tolerance_text()})."
    else:
        off = f", {abs(err):.0%} {'too high' if err > 0 else 'too low'}" if err is not None else ""
        msg = f"Not quite: you said {_show(question, value)}{off}; the engine says {shown}."
    return AnswerCheck(ok, value, msg, err)


def _show(q: Question, v: float) -> str:
    if q.percent:
        return f"{v:.1%}" if abs(v) < 10 else fmt(v)
    return f"{fmt(v)} {q.unit}".strip()


def _plural(word: str, shown: str) -> str:
    return word if shown == "1" else word + "s"


def _per_request_phrase(c: ComponentReport, qps: float, entry: str | None) -> str | None:
    if qps <= 0 or c.calls_per_s <= 0:
        return None
    ratio = fmt(c.calls_per_s / qps)
    if c.id == entry:
        return f"Every request reaches {c.label} once."
    return f"Each request leads to {ratio} {_plural('call', ratio)} to {c.label}."


def _shard_phrase(c: ComponentReport) -> str | None:
    if c.shards <= 1:
        return None
    if c.shard_access == "all":
        return (f"Its data is split into {c.shards} shards and every call visits all of them "
                "(scatter-gather), so each shard sees every call.")
    return f"Its data is split into {c.shards} shards and a call goes to one of them, so each shard sees 1/{c.shards} of the calls."


def _service_phrase(c: ComponentReport) -> str:
    f = c.figures["service_ms"]
    base, per_item, items = (i.value for i in f.inputs[:3])
    if per_item:
        return (f"Mean service time per call: {fmt(c.service_ms)} ms ({fmt(base)} ms + {fmt(per_item)} ms per item "
                f"× {fmt(items)} items).")
    return f"Mean service time per call: {fmt(c.service_ms)} ms."


def _traffic_phrase(c: ComponentReport, qps: float, entry: str | None, q: Parameter | None,
                    values: Mapping[str, float]) -> list[str]:
    out = []
    on_request = qps > 0 and c.tier in ("online", "nearline") and c.calls_per_s / qps >= 1e-3
    if on_request and q is not None:
        out.append(f"Peak traffic: {fmt(values[q.name])} {q.unit}".rstrip() + ".")
        phrase = _per_request_phrase(c, qps, entry)
        if phrase:
            out.append(phrase)
    else:
        out.append(f"{c.label} receives {fmt(c.calls_per_s)} calls/s.")
    return out


def _qps(rp: ResolvedPattern, values: Mapping[str, float]) -> float:
    req = rp.pattern.request
    if req is None:
        return 0.0
    try:
        if req.users is not None:
            u = req.users
            return traffic_from_users(evaluate(u.dau, values), evaluate(u.requests_per_user_per_day, values),
                                      evaluate(u.peak_to_average, values)).peak_qps
        return evaluate(req.peak_qps, values)
    except ExplorerError:
        return 0.0


def _explain(c: ComponentReport, keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{c.id}: {c.figures[k].explain()}" for k in keys if k in c.figures)


def _q_utilization(rp, r: Report, c: ComponentReport, qps, tp, seed) -> Question | None:
    f = c.figures.get("utilization")
    if f is None or not isinstance(f.value, float) or not _serving(c) or c.saturated or f.value < 0.05:
        return None
    givens = _traffic_phrase(c, qps, rp.pattern.request.entry if rp.pattern.request else None, tp, r.values)
    givens.append(_service_phrase(c))
    shard = _shard_phrase(c)
    if shard:
        givens.append(shard)
    per = " per shard" if c.shards > 1 else ""
    givens.append(f"{c.replicas} {_plural('replica', str(c.replicas))}{per}, each serving {c.concurrency} "
                  f"{_plural('call', str(c.concurrency))} at once.")
    return Question(f"{rp.id}:{seed}:utilization:{c.id}", "utilization", c.id,
                    f"What is the utilisation of **{c.label}**{per}?", tuple(givens), f.value, "", 0.15, 0.02, f,
                    _explain(c, ("utilization", "arrival_per_shard_per_s", "servers", "service_ms")),
                    dict(r.values), r.mode, percent=True)


def _q_replicas(rp, r: Report, c: ComponentReport, qps, tp, seed) -> Question | None:
    f = c.figures.get("replicas_recommended")
    if f is None or not isinstance(f.value, int) or not _serving(c) or f.value < 2:
        return None
    # ask only where the utilisation target (not the latency share) decides, so it can be done by hand
    a = c.arrival_per_shard_per_s * c.service_ms / 1000.0
    replication = next((i.value for i in f.inputs if i.name == "replication floor"), 1)
    by_hand = max(replication, math.ceil(math.ceil(a / r.target_utilization - 1e-9) / c.concurrency))
    if abs(by_hand - f.value) > max(1, 0.05 * f.value):
        return None
    givens = _traffic_phrase(c, qps, rp.pattern.request.entry if rp.pattern.request else None, tp, r.values)
    givens.append(_service_phrase(c))
    shard = _shard_phrase(c)
    if shard:
        givens.append(shard)
    givens.append(f"Each replica serves {c.concurrency} {_plural('call', str(c.concurrency))} at once.")
    givens.append(f"Target utilisation: {r.target_utilization:.0%}.")
    if replication > 1:
        givens.append(f"The data is kept in {fmt(replication)} copies, so there are at least {fmt(replication)} replicas.")
    what = "GPU replicas" if c.hardware == "gpu" else "replicas"
    per = " per shard" if c.shards > 1 else ""
    return Question(f"{rp.id}:{seed}:replicas:{c.id}", "replicas", c.id,
                    f"How many {what}{per} does **{c.label}** need to stay at or below the target utilisation?",
                    tuple(givens), float(f.value), "replicas", 0.15, 1.0, f,
                    _explain(c, ("replicas_recommended", "arrival_per_shard_per_s", "service_ms")),
                    dict(r.values), r.mode)


def _data_phrase(rp, c: ComponentReport, values) -> str | None:
    comp = next(x for x in rp.pattern.components if x.id == c.id)
    if comp.data is None:
        return None
    try:
        n = evaluate(comp.data.items, values)
        b = evaluate(comp.data.bytes_per_item, values)
    except ExplorerError:
        return None
    return f"It holds {fmt(n)} items of {fmt(b)} bytes each (1 GB = 10⁹ bytes)."


def _q_memory(rp, r: Report, c: ComponentReport, qps, tp, seed) -> Question | None:
    f = c.figures.get("memory_gb")
    if f is None or not isinstance(f.value, float) or f.value <= 0 or c.replicas <= 0:
        return None
    data = _data_phrase(rp, c, r.values)
    if data is None:
        return None
    per = f"{c.replicas} {_plural('replica', str(c.replicas))}" + (" per shard" if c.shards > 1 else "")
    givens = (data, f"Every replica keeps its shard in memory; there are {per}.")
    return Question(f"{rp.id}:{seed}:memory:{c.id}", "memory", c.id,
                    f"How much memory (GB) does **{c.label}** hold across all its replicas?",
                    givens, f.value, "GB", 0.15, 0.0, f, _explain(c, ("memory_gb", "shards")), dict(r.values), r.mode)


def _q_shards(rp, r: Report, c: ComponentReport, qps, tp, seed) -> Question | None:
    f = c.figures.get("shards")
    if f is None or len(f.inputs) < 3 or f.value < 2:
        return None
    data = _data_phrase(rp, c, r.values)
    if data is None:
        return None
    mem = f.inputs[1].value
    givens = (data, f"One node has {fmt(mem)} GB of memory, of which {USABLE_MEMORY_FRACTION:.0%} is usable for data.")
    return Question(f"{rp.id}:{seed}:shards:{c.id}", "shards", c.id,
                    f"How many shards does **{c.label}** need so that its data fits in memory?",
                    givens, float(f.value), "shards", 0.15, 1.0 if f.value > 2 else 0.0, f, _explain(c, ("shards",)),
                    dict(r.values), r.mode)


def _q_cost(rp, r: Report, c: ComponentReport, qps, tp, seed) -> Question | None:
    f = c.figures.get("cost_usd_month")
    if f is None or not isinstance(f.value, float) or f.value <= 0 or c.nodes <= 0:
        return None
    if c.nodes == 1 and not c.storage_gb:
        return None
    price = f.inputs[1].value
    storage, storage_price = f.inputs[2].value, f.inputs[3].value
    givens = [f"{c.label} runs on {c.nodes} node{'s' if c.nodes != 1 else ''}"
              + (f" ({c.shards} shards × {c.replicas} replicas)" if c.shards > 1 else "") + ".",
              f"One node costs ${fmt(price)} per hour; a month has {fmt(HOURS_PER_MONTH)} hours."]
    if storage and storage_price:
        givens.append(f"It also stores {fmt(storage)} GB at ${fmt(storage_price)} per GB-month.")
    return Question(f"{rp.id}:{seed}:cost:{c.id}", "cost", c.id,
                    f"What does **{c.label}** cost per month (USD)?", tuple(givens), f.value, "USD", 0.15, 0.0, f,
                    _explain(c, ("cost_usd_month", "nodes")), dict(r.values), r.mode)


def _q_calls(rp, r: Report, c: ComponentReport, qps, tp, seed) -> Question | None:
    f = c.figures.get("calls_per_s")
    req = rp.pattern.request
    if f is None or req is None or qps <= 0 or c.id == req.entry or c.calls_per_s <= 0 or tp is None:
        return None
    hops: list[str] = []
    node, product = c.id, 1.0
    for _ in range(12):
        incoming = [e for e in r.edges if e.target == node and e.calls_per_s > 0]
        if len(incoming) != 1:
            return None
        e = incoming[0]
        hops.append(f"{r.components[e.source].label} makes {fmt(e.calls_per_upstream)} "
                    f"call{'s' if e.calls_per_upstream != 1 else ''} to {r.components[e.target].label} per call it receives.")
        product *= e.calls_per_upstream
        node = e.source
        if node == req.entry:
            break
    else:
        return None
    if node != req.entry or math.isclose(product, 1.0):
        return None
    givens = [f"Peak traffic at {r.components[req.entry].label}: {fmt(r.values[tp.name])} {tp.unit}".rstrip() + "."]
    givens += reversed(hops)
    return Question(f"{rp.id}:{seed}:calls:{c.id}", "calls", c.id,
                    f"How many calls per second reach **{c.label}**?", tuple(givens), f.value, "calls/s", 0.15, 0.0, f,
                    _explain(c, ("calls_per_s",)), dict(r.values), r.mode)


def _model_questions(rp: ResolvedPattern, values: Mapping[str, float], qps, tp, seed) -> list[Question]:
    """Model choice: one selector's component switched (by seed) to another family it offers; how many replicas
    the auto-sized design needs with it. Asked only where the utilisation target decides (so it can be done by
    hand); the givens name the family, its hardware and the source of its per-item cost."""
    out: list[Question] = []
    rng = random.Random(f"model:{rp.id}:{seed}")
    for cid, sel in selectors(rp).items():
        fid = rng.choice([f for f in sel.offer if f != sel.default])
        alt = with_models(rp, {cid: fid})
        r = analyse(alt, values, "autosize")
        c = r.components[cid]
        q = _q_replicas(alt, r, c, qps, tp, seed)
        if q is None:
            continue
        f, d = family(fid), family(sel.default)
        cost = f.cost_on(f.serves_on)
        givens = (f"The design as drawn runs {d.label} on {d.serves_on.upper()}; it switches to {f.label}, served "
                  f"on {f.serves_on.upper()}: {fmt(cost.service_ms.value)} ms per call plus "
                  f"{fmt(cost.per_item_ms.value)} ms per item (source: {cost.per_item_ms.source}).",) + q.givens
        what = "GPU replicas" if c.hardware == "gpu" else "CPU replicas"
        per = " per shard" if c.shards > 1 else ""
        out.append(replace(q, id=f"{rp.id}:{seed}:model:{cid}", kind="model", givens=givens, models={cid: fid},
                           text=f"With **{f.label}** ({f.short}) instead of {d.short}, how many {what}{per} does "
                                f"**{c.label}** need to stay at or below the target utilisation?",
                           explanation=q.explanation + (f"{cid}: per-item cost from {source_of(f, cost.per_item_ms.source)}",)))
    return out


KINDS = ("utilization", "replicas", "memory", "shards", "cost", "calls", "model")
_MAKERS = {"utilization": _q_utilization, "replicas": _q_replicas, "memory": _q_memory, "shards": _q_shards,
           "cost": _q_cost, "calls": _q_calls}


def quiz_scenario(rp: ResolvedPattern, seed: int) -> dict[str, float]:
    """The scenario questions are asked at: the traffic parameter drawn (by seed) between a quarter
    and four times its default, rounded to two digits; the rest at their defaults. Seed 0 is the default scenario."""
    values = rp.defaults()
    tp = traffic_parameter(rp)
    if tp is not None and seed != 0:
        rng = random.Random(f"quiz:{rp.id}:{seed}")
        values[tp.name] = _random_value(rng, tp, tp.default / 4, tp.default * 4)
    return check_values(rp, values)


def generate_questions(rp: ResolvedPattern, seed: int = 1, n: int = 5,
                       kinds: tuple[str, ...] = KINDS) -> list[Question]:
    """Up to ``n`` questions at :func:`quiz_scenario`, as varied in kind as the pattern allows.

    Utilisation, shards, memory, cost and calls/s are asked of the provisioned design;
    replicas of the auto-sized one. Deterministic given ``(pattern, seed, n)``.
    """
    values = quiz_scenario(rp, seed)
    tp = traffic_parameter(rp)
    qps = _qps(rp, values)
    reports = {"provisioned": analyse(rp, values, "provisioned"), "autosize": analyse(rp, values, "autosize")}
    pool: dict[str, list[Question]] = {}
    for kind in kinds:
        r = reports["autosize" if kind == "replicas" else "provisioned"]
        made = _model_questions(rp, values, qps, tp, seed) if kind == "model" else []
        for c in (r.components.values() if kind != "model" else ()):
            if c.status == "external":
                continue
            question = _MAKERS[kind](rp, r, c, qps, tp, seed)
            if question is not None and math.isfinite(question.answer):
                made.append(question)
        if made:
            pool[kind] = made
    rng = random.Random(f"questions:{rp.id}:{seed}")
    order = sorted(pool)
    rng.shuffle(order)
    for kind in order:
        rng.shuffle(pool[kind])
    out: list[Question] = []
    while len(out) < n and any(pool.values()):
        for kind in order:
            if pool[kind] and len(out) < n:
                out.append(pool[kind].pop())
    return [replace(q, id=f"{q.id}:{i}") for i, q in enumerate(out)]


# --------------------------------------------------------------------------- progress


def new_progress() -> dict:
    """Progress kept for the browser session: answered and right, each question counted once."""
    return {"answered": 0, "right": 0, "seen": {}}


def record(progress: dict, key: str, correct: bool) -> dict:
    """Count an answer; a question (``key``) counts at its first answer only. Returns the updated dict."""
    seen = dict(progress.get("seen", {}))
    if key in seen:
        return progress
    seen[key] = bool(correct)
    return {"answered": progress.get("answered", 0) + 1, "right": progress.get("right", 0) + int(bool(correct)),
            "seen": seen}


# --------------------------------------------------------------------------- what breaks first?


@dataclass(frozen=True)
class BreaksFirstPuzzle:
    """A failure injected into a pattern, and the question: which component breaks first?"""

    pattern_id: str
    failure: str
    """The what-if, as ``COMPONENT=KIND`` (``ann=zone``, ``scorer=slow:3``, ``query_cache=cold``)."""
    question: str
    answer: str
    """The component the engine finds busiest among those the failure pushed hot or saturated."""
    accepted: tuple[str, ...]
    """The answer, plus any pushed over with it within 2% of its utilisation."""
    options: tuple[tuple[str, str], ...]
    """(component id, label) of every request-path component still answering."""
    what_if: WhatIf = field(repr=False, compare=False)


def _failure_candidates(rp: ResolvedPattern, base: Report) -> list[str]:
    """Failures worth asking about: a zone lost by each request-path component with replicas to lose, a 3×
    slow-down of each, a cold cache, and a stage down when its fallback sends the calls elsewhere."""
    out: list[str] = []
    for c in rp.pattern.components:
        cr = base.components[c.id]
        if not cr.on_request_path or cr.status == "external" or cr.calls_per_s <= 0:
            continue
        if cr.replicas >= 2:
            out.append(f"{c.id}=zone")
        out.append(f"{c.id}=slow:3")
        if c.hit_rate is not None:
            out.append(f"{c.id}=cold")
        if any(fb.component == c.id and fb.to is not None for fb in rp.pattern.fallbacks):
            out.append(f"{c.id}=down")
    return out


def breaks_first_puzzle(rp: ResolvedPattern, seed: int = 0, attempts: int = 8) -> BreaksFirstPuzzle | None:
    """A "what breaks first?" question the engine answers: a failure drawn (by seed) among the pattern's
    request-path components (see :func:`_failure_candidates`), kept when it pushes some component hot or
    saturated (the one that lost a zone or slowed down counts: is there headroom for it?); the answer is the
    busiest of those. None when no failure tried overloads anything.

    Examples
    --------
    >>> from explorer.model.library import load
    >>> p = breaks_first_puzzle(load("video_search"), seed=1)
    >>> check_breaks_first(p, p.answer).correct
    True
    """
    if rp.pattern.request is None:
        return None
    base = analyse(rp)
    found = _failure_candidates(rp, base)
    random.Random(f"breaks:{rp.id}:{seed}").shuffle(found)
    for text in found[:max(1, attempts)]:
        try:
            w = what_if(rp, None, "provisioned", parse_failures(rp, [text]), baseline=base)
        except ExplorerError:
            continue
        over = [cid for cid in w.overloaded if cid not in w.out]
        if not over:
            continue
        r = w.report
        ranked = sorted(over, key=lambda cid: (-r.components[cid].utilization, cid))
        top = r.components[ranked[0]]
        accepted = tuple(cid for cid in ranked if r.components[cid].utilization >= top.utilization * 0.98)
        options = tuple((c.id, c.label) for c in r.components.values()
                        if c.on_request_path and c.status != "external" and c.id not in w.out)
        what = w.failures[0].describe()
        return BreaksFirstPuzzle(rp.id, text, f"If {what}, which component breaks first (turns hot or saturates)?", top.id,
                                 accepted, options, w)
    return None


def check_breaks_first(puzzle: BreaksFirstPuzzle, choice: str) -> Verdict:
    """Right if the choice is the busiest component the failure pushed hot or saturated (or within 2% of it);
    the proof is the what-if's traced figures and the answer's utilisation."""
    w = puzzle.what_if
    r = w.report
    ans = r.components[puzzle.answer]
    proof = [f.explain() for f in w.figures.values()] + [_util_line(ans)]
    proof += [f.explain() for t in w.timeouts for f in t.figures.values()]
    if choice not in r.components:
        return Verdict(False, f"{choice!r} is not a component of this pattern.", tuple(proof))
    chosen = r.components[choice]
    if choice in puzzle.accepted:
        return Verdict(True, f"Right: {chosen.label} goes from {_util_before(w, choice):.0%} to "
                             f"{chosen.utilization:.0%} ({chosen.status}).", tuple(proof))
    return Verdict(False, f"Not quite: {chosen.label} runs at {chosen.utilization:.0%}, but {ans.label} goes from "
                          f"{_util_before(w, puzzle.answer):.0%} to {ans.utilization:.0%} ({ans.status}).",
                   tuple(proof + [_util_line(chosen)]))


def _util_before(w: WhatIf, cid: str) -> float:
    change = next((c for c in w.load_changes if c.component == cid), None)
    return change.utilization_before if change is not None else w.report.components[cid].utilization
