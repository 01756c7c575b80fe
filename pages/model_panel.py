"""The model selector of the Scenario section: which model family each scoring, ranking or encoding component
runs. A choice is part of the scenario like a slider value: it lives in the widget state
(``prefix + "model:" + component``), in the URL (``model.<component>=<family>``) and in every export.

Thin like the other pages: the engine (:mod:`explorer.model.choice`) applies the choice; this draws it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from explorer.model.choice import chosen, family, selectors, with_models
from explorer.model.loader import ResolvedPattern
from pages import ui


def _key(prefix: str, cid: str) -> str:
    return f"{prefix}model:{cid}"


def defaults(prefix: str, rp: ResolvedPattern) -> dict[str, str]:
    """Widget state of every selector at its default family (for a reset)."""
    return {_key(prefix, cid): s.default for cid, s in selectors(rp).items()}


def seed(prefix: str, rp: ResolvedPattern, models: Mapping[str, str]) -> None:
    """Put a choice (from a link) into the widget state; selectors it does not name take their default."""
    for cid, s in selectors(rp).items():
        st.session_state[_key(prefix, cid)] = models.get(cid, s.default)


def current(rp: ResolvedPattern, prefix: str) -> dict[str, str]:
    """The family each selector runs, from the widget state (seeding defaults, dropping stale values)."""
    out = {}
    for cid, s in selectors(rp).items():
        key = _key(prefix, cid)
        if st.session_state.get(key) not in s.offer:
            st.session_state[key] = s.default
        out[cid] = st.session_state[key]
    return out


@st.cache_resource(show_spinner=False, max_entries=64)
def _applied(key: str, models: tuple[tuple[str, str], ...], _rp: ResolvedPattern) -> ResolvedPattern:
    return with_models(_rp, dict(models))


def applied(rp: ResolvedPattern, prefix: str) -> ResolvedPattern:
    """The pattern with the chosen families (the same object for the same choice, so the page's caches hold)."""
    models = current(rp, prefix)
    return _applied(ui.pattern_key(rp), tuple(sorted(models.items())), rp)


def _option(fid: str, default: str) -> str:
    f = family(fid)
    return f"{f.label} — {f.serves_on.upper()}" + (" (default)" if fid == default else "")


def draw(rp: ResolvedPattern, where: Any, prefix: str) -> None:
    """One selector per component that offers a choice (nothing for other patterns), beside the sliders."""
    sel = selectors(rp)
    if not sel:
        return
    where.markdown("**Model**")
    picked = chosen(rp)
    for cid, s in sel.items():
        f = family(picked[cid])
        where.selectbox(f"Model family — {s.role or cid} (`{cid}`)", s.offer, key=_key(prefix, cid),
                        format_func=lambda fid, d=s.default: _option(fid, d),
                        help=(f"Per-item cost and hardware follow the family ({f.short}: {f.features}) "
                              f"Quality: {f.quality}"))
