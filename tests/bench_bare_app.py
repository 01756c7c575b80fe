"""A bare Streamlit page: one slider and one graphviz chart — the baseline for tests/bench_browser.py.

With ``BENCH_DOTS`` pointing at a JSON list of DOT sources, slider position *i* shows the *i*-th
(the benchmark passes the largest pattern's diagram at each QPS step, so both pages draw the same
graph; ``BENCH_START`` is the starting position); without it, a small generated graph whose label shows the value.
"""

import json
import os
from pathlib import Path

import streamlit as st

st.set_page_config(layout=os.environ.get("BENCH_LAYOUT", "wide"))  # the Explore page is wide: same chart size

path = os.environ.get("BENCH_DOTS")
dots = json.loads(Path(path).read_text(encoding="utf-8")) if path else None
count = len(dots) if dots else 101
start = int(os.environ.get("BENCH_START", count // 2))
value = st.slider("Value", 0, count - 1, min(max(start, 0), count - 1), key="value")
dot = dots[value] if dots else f'digraph bare {{ a -> b [label="{value}"]; b -> c; c -> a }}'
st.graphviz_chart(dot, width="stretch")
