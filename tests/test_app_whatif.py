"""AppTest of the Explore page's What-if panel: choosing a failure, the diagram it draws, the URL round trip."""

from __future__ import annotations

import pytest

from explorer.render import styles
from pages.diagram_widget import drawn_key
from tests.apptest import run_app

PID = "video_recommendation"
KEY = f"explore:whatif:{PID}:"


@pytest.fixture(autouse=True)
def _empty_user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCH_EXPLORER_USER_DIR", str(tmp_path / "user_patterns"))


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _whatif_dot(at) -> str:
    assert len(at.get("bidi_component")) == 2, "the page diagram and the what-if diagram"
    return at.session_state[drawn_key("explore:whatif:diagram")]


def test_no_failure_shows_availability_and_one_diagram():
    at = run_app({"pattern": PID})
    assert at.selectbox(key=KEY + "component").value == "— nothing fails —"
    assert len(at.get("bidi_component")) == 1
    assert "fail" not in at.query_params
    assert any("nines" in c.value and "single points of failure" in c.value for c in at.caption)


def test_knocking_out_the_ranker_lights_the_fallback_and_writes_the_url():
    at = run_app({"pattern": PID})
    at.selectbox(key=KEY + "component").set_value("scorer").run()
    assert not at.exception
    assert at.query_params["fail"] == "scorer:down"
    assert _metric(at, "By fallbacks") == "100.0%"
    assert _metric(at, "Failed") == "0.00%"
    dot = _whatif_dot(at)
    assert "failed" in dot and styles.FAILED_FILL in dot and "✕ OUT" in dot
    assert "fallback_0" in dot and styles.FALLBACK_EDGE in dot
    assert any("popular" in w.value for w in at.warning)
    # slow: the retries show, and the slider's K rides in the URL
    at.radio(key=KEY + "kind").set_value("slow").run()
    at.slider(key=KEY + "factor").set_value(4.0).run()
    assert at.query_params["fail"] == "scorer:slow:4"
    assert any("retr" in w.value for w in at.warning)


def test_a_link_with_a_failure_reopens_it():
    at = run_app({"pattern": PID, "fail": "ann:zone"})
    assert not at.exception
    assert at.selectbox(key=KEY + "component").value == "ann"
    assert at.radio(key=KEY + "kind").value == "zone"
    assert at.query_params["fail"] == "ann:zone"
    again = run_app(dict(at.query_params))
    assert _whatif_dot(again) == _whatif_dot(at)


def test_a_bad_failure_in_a_link_is_a_notice():
    at = run_app({"pattern": PID, "fail": "rankr:down"})
    assert not at.exception
    assert any("rankr" in i.value for i in at.info)
    assert at.selectbox(key=KEY + "component").value == "— nothing fails —"
    assert "fail" not in at.query_params


def test_the_headline_shows_availability_in_nines_beside_the_p99():
    at = run_app({"pattern": PID})
    line = next(m.value for m in at.markdown if m.value.startswith("**Availability**"))
    assert "nines" in line and "beside p99" in line and "single points of failure: none" in line



def test_the_toolbar_study_note_carries_the_what_if():
    """The toolbar's Markdown file reports the page's what-if when one is set, and only then."""
    from explorer.model import library
    from explorer.model.whatif import parse_failures
    from pages.export_panel import _maker

    rp = library.load(PID)
    plain = _maker(rp, None, rp.defaults(), "provisioned", styles.DrawOptions(), "md")().decode()
    failed = _maker(rp, None, rp.defaults(), "provisioned", styles.DrawOptions(), "md",
                    failures=parse_failures(rp, ["scorer=down"]))().decode()
    assert "What if" not in plain
    assert "What if" in failed and "scorer" in failed
