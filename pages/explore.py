"""Explore: one pattern at one scenario (first version: the capacity table)."""

import streamlit as st

from explorer.analysis import analyse
from explorer.errors import ExplorerError
from explorer.loader import builtin_paths, load_pattern


@st.cache_data(show_spinner=False)
def _estimate(path: str) -> dict:
    return analyse(load_pattern(path)).to_dict()


paths = {p.stem: str(p) for p in builtin_paths()}
choice = st.sidebar.selectbox("Pattern", list(paths), key="pattern")
try:
    report = _estimate(paths[choice])
except ExplorerError as exc:
    st.error(str(exc))
    st.stop()
st.title(report["title"])
st.dataframe([{k: c[k] for k in ("id", "status", "calls_per_s", "utilization", "p99_ms", "replicas")}
              for c in report["components"].values()])
