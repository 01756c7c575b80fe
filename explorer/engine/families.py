"""Model families in the report: what each selector runs, where its per-item cost comes from, and — when a
family other than the default is chosen — a note on every figure the choice recomputed.

:func:`explorer.model.choice.with_models` rewrites the pattern (cost per item, hardware, parameters, training
cost per example); the passes then size it like any other pattern. This module adds what they cannot know:

* a ``family:<component>`` ML section per selector — the family, the per-item and base cost the engine used
  with their sources, the same family's cost on the other hardware, parameters, training cost per example,
  the features it needs and what it buys in quality;
* :func:`with_family_notes` — for chosen (non-default) families, the family and the source of its per-item cost
  appended to the note of every figure of that component, its ML sections, the training section (when the
  family sets the training cost), the end-to-end figures and the totals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from explorer.engine.report import ComponentReport, EndToEnd, Figure, Input, MLSection, Totals
from explorer.engine.traffic import Traffic
from explorer.model.choice import chosen, family, selectors
from explorer.model.loader import ResolvedPattern


def family_sections(rp: ResolvedPattern, tr: Traffic) -> list[MLSection]:
    """One ``family:<id>`` section per component with a model selector (none for other patterns)."""
    out: list[MLSection] = []
    sel = selectors(rp)
    picked = dict(rp.models)
    for cid, fid in chosen(rp).items():
        f = family(fid)
        s = tr.specs[cid]
        hw = rp.types[cid].hardware
        other = "cpu" if f.serves_on == "gpu" else "gpu"
        how = "chosen in the scenario" if cid in picked else "the pattern's default"
        F: dict[str, Figure] = {
            "per_item_ms": Figure("per_item_ms", f"Inference per item ({hw.upper()})", s.per_item_ms, "ms",
                                  f"per-item cost of {f.id} ({f.label}, {how}) on {hw.upper()}, as used by sizing",
                                  note=f"Source: {s.sources.get('per_item_ms', '')}"),
            "service_ms": Figure("service_ms", f"Base per call ({hw.upper()})", s.service_ms, "ms",
                                 "fixed time per call before any item (with a gpu block: gpu.launch_ms)",
                                 note=f"Source: {s.sources.get('service_ms', '')}"),
            "other_per_item_ms": Figure(
                "other_per_item_ms", f"Per item if served on {other.upper()}", f.cost_on(other).per_item_ms.value,
                "ms", f"family catalog: {f.id} on {other.upper()} (for comparison; not used for sizing)",
                note=f"Source: {f.cost_on(other).per_item_ms.source}"),
        }
        if s.ml is not None and s.ml.model is not None:
            F["weights_gb"] = Figure("weights_gb", "Model weights", s.ml.model.weights_gb, "GB",
                                     "parameters × bytes per parameter (the model block)",
                                     note="See the model memory section for the fit.")
        F["typical_parameters"] = Figure("typical_parameters", "Parameters (typical of the family)",
                                         f.parameters.value, "parameters", f"family catalog: {f.id}",
                                         note=f"Source: {f.parameters.source}")
        training = rp.pattern.ml.training if rp.pattern.ml is not None else None
        if sel[cid].training and training is not None and training.per_example_ms is not None:
            src = (f.training_per_example_ms.source if cid in picked
                   else "the pattern's ml.training.per_example_ms (written for the default family)")
            F["training_per_example_ms"] = Figure(
                "training_per_example_ms", "Training per example", training.per_example_ms, "ms",
                "GPU time per example of ml.training, following this component's family", note=f"Source: {src}")
        F["families_offered"] = Figure(
            "families_offered", "Families offered", len(sel[cid].offer), "families",
            f"offered: {', '.join(sel[cid].offer)}; default {sel[cid].default}; running {f.id} ({how})",
            (Input("served on", f.serves_on.upper()),),
            note=f"Features it needs: {f.features} What it buys: {f.quality}")
        out.append(MLSection(key=f"family:{cid}", title=f"Model family — {rp.graph.nodes[cid]['label']}: "
                                                        f"{f.short} ({how})", component=cid, figures=F))
    return out


def choice_note(rp: ResolvedPattern, cid: str) -> str:
    """``Model choice: ranker runs lr (…, CPU); per-item cost: <source>`` for one chosen component."""
    f = family(dict(rp.models)[cid])
    s = rp.types[cid].hardware
    per_item = f.cost_on(f.serves_on).per_item_ms.source
    return f"Model choice: {cid} runs {f.id} ({f.label}, {s.upper()}); per-item cost: {per_item}"


def _noted(figures: Mapping[str, Figure], note: str) -> dict[str, Figure]:
    return {k: dataclasses.replace(f, note=f"{f.note} {note}" if f.note else note) for k, f in figures.items()}


def with_family_notes(rp: ResolvedPattern, comps: Mapping[str, ComponentReport], sections: list[MLSection],
                      e2e: EndToEnd | None, totals: Totals):
    """The results with every figure a chosen family recomputed noted with the family and its per-item source.

    Returns ``(components, sections, end_to_end, totals)``; unchanged when every selector runs its default."""
    if not rp.models:
        return comps, sections, e2e, totals
    notes = {cid: choice_note(rp, cid) for cid, _ in rp.models}
    every = " ".join(notes.values())
    sel = selectors(rp)
    trains = next((notes[cid] for cid, _ in rp.models if sel[cid].training), None)
    comps = {cid: (dataclasses.replace(c, figures=_noted(c.figures, notes[cid])) if cid in notes else c)
             for cid, c in comps.items()}
    out = []
    for s in sections:
        if s.component in notes and not s.key.startswith("family:"):
            s = dataclasses.replace(s, figures=_noted(s.figures, notes[s.component]))
        elif s.key == "training" and trains is not None:
            s = dataclasses.replace(s, figures=_noted(s.figures, trains))
        out.append(s)
    if e2e is not None:
        e2e = dataclasses.replace(e2e, figures=_noted(e2e.figures, every))
    totals = dataclasses.replace(totals, figures=_noted(totals.figures, every))
    return comps, out, e2e, totals


__all__ = ["choice_note", "family_sections", "with_family_notes"]
