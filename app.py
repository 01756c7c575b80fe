"""Architecture Explorer: the Streamlit entry point. Builds the navigation (and the page chrome every page shares)."""

from pathlib import Path

import streamlit as st

from pages import ui

# a local icon: a Material icon as page icon makes the browser fetch the favicon from a font server
# (and a bare string here would be drawn on every page by Streamlit's "magic")
FAVICON = Path(__file__).parent / "pages" / "static" / "favicon.png"
st.set_page_config(page_title="Architecture Explorer", page_icon=str(FAVICON), layout="wide")
ui.page_style()

pages = [
    st.Page("pages/explore.py", title="Explore", icon=":material/explore:", default=True),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/study.py", title="Study", icon=":material/school:"),
    st.Page("pages/calculator.py", title="Calculator", icon=":material/calculate:"),
    st.Page("pages/editor.py", title="Your patterns", icon=":material/edit_note:"),
    st.Page("pages/method.py", title="Method", icon=":material/functions:"),
]
st.navigation(pages).run()
