"""AppTest: at 100 req/s, provisioned, the Explore page names the over-provisioning and what it costs, and
its one-click fixes work: "auto-size this component" sets that component's replicas (kept in the URL),
"auto-size the pattern" switches to auto-size."""

from __future__ import annotations

import re

import pytest
from apptest import run_app, run_page

PATTERN = "ad_click_prediction"
PREFIX = f"explore:{PATTERN}:"


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def table_row(at, component_label: str) -> dict:
    frame = at.dataframe[0].value
    rows = frame.to_dict("records")
    return next(r for r in rows if r["Component"] == component_label)


def test_over_provisioning_is_named_and_auto_size_buttons_fix_it():
    at = run_app({"pattern": PATTERN, "peak_qps": "100", "mode": "provisioned"})
    success = " ".join(texts(at.success))
    assert "over-provisioned" in success and "$" in success, success
    infos = texts(at.info)
    assert any("over-provisioned" in t and "/month" in t for t in infos), infos
    assert table_row(at, "Click model (DLRM / DCN, GPU)")["Sizing"].startswith("over: 90 → 1")

    at.button(key=f"{PREFIX}fix_0_ranker").click()
    at.run()
    assert not at.exception
    assert at.query_params["replicas.ranker"] == "1"
    row = table_row(at, "Click model (DLRM / DCN, GPU)")
    assert row["Replicas"] == "1" and row["Sizing"] == ""
    assert any("Replicas set here" in c for c in texts(at.caption))

    at.button(key=f"{PREFIX}fix_reset").click()
    at.run()
    assert "replicas.ranker" not in at.query_params
    assert table_row(at, "Click model (DLRM / DCN, GPU)")["Replicas"] == "90"

    at.button(key=f"{PREFIX}fixall_0_ranker").click()
    at.run()
    assert not at.exception
    assert at.query_params["mode"] == "autosize"
    assert at.radio(key=f"{PREFIX}mode").value == "autosize"
    assert "over-provisioned" not in " ".join(texts(at.success) + texts(at.info))


def test_a_link_with_a_replica_count_reopens_it():
    at = run_app({"pattern": PATTERN, "peak_qps": "100", "replicas.ranker": "3"})
    assert table_row(at, "Click model (DLRM / DCN, GPU)")["Replicas"] == "3"
    assert at.query_params["replicas.ranker"] == "3"


BAD = re.compile(r"\bNone\b|\bnan\b|\d[eE][-+]?\d")


@pytest.mark.parametrize(("name", "query"), [("calculator", {}), ("compare", {"preset": "batch_vs_online"}),
                                             ("study", {"pattern": PATTERN})])
def test_pages_show_no_none_nan_or_exponent(name, query):
    at = run_page(name, query)
    shown = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success")
             for e in getattr(at, kind)]
    shown += [f"{m.label} {m.value} {m.proto.delta}" for m in at.metric]
    shown += [frame.value.to_string() for frame in at.dataframe]
    bad = [text[:200] for text in shown if BAD.search(text)]
    assert not bad, bad
