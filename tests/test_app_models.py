"""AppTest for the model selector of the Explore page's Scenario section: it is there for patterns that offer a
choice, moving it changes the numbers and the URL, a link opens it, and a bad family gives a notice."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages.diagram_widget import drawn_key

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 120
KEY = "explore:ad_click_prediction:model:ranker"


@pytest.fixture(autouse=True)
def _empty_user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCH_EXPLORER_USER_DIR", str(tmp_path / "user_patterns"))


def run(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def test_the_selector_moves_the_ranker_to_cpu_and_back_and_the_url_follows():
    at = run({"pattern": "ad_click_prediction"})
    box = at.selectbox(key=KEY)
    assert box.value == "dlrm"
    assert list(box.options)[0].startswith("Logistic regression")
    cost_dlrm = metric(at, "Cost")
    assert any(m.label.startswith("GPUs") for m in at.metric)
    assert at.query_params["model.ranker"] == "dlrm"
    box.set_value("lr").run()
    assert not at.exception
    assert at.query_params["model.ranker"] == "lr"
    assert metric(at, "Cost") != cost_dlrm
    assert not any(m.label.startswith("GPUs") for m in at.metric)  # no GPU ranker left
    assert "Click model (LR, CPU)" in at.session_state[drawn_key("explore:ad_click_prediction:diagram")]
    assert any("Model family" in md.value for md in at.markdown)


def test_a_link_opens_the_choice_and_a_bad_family_names_the_valid_ones():
    at = run({"pattern": "ad_click_prediction", "model.ranker": "cross_encoder"})
    assert at.selectbox(key=KEY).value == "cross_encoder"
    at = run({"pattern": "ad_click_prediction", "model.ranker": "bert"})
    assert at.selectbox(key=KEY).value == "dlrm"
    text = " ".join(w.value for w in at.warning)
    assert "model.ranker=bert" in text and "lr, gbdt, dlrm, cross_encoder" in text


def test_patterns_without_a_choice_show_no_selector():
    at = run({"pattern": "feature_store"})
    assert not [b for b in at.selectbox if b.key and ":model:" in b.key]
