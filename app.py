"""Architecture Explorer: the Streamlit entry point. Builds the navigation only."""

import streamlit as st

st.set_page_config(page_title="Architecture Explorer", page_icon="🧭", layout="wide")

pages = [
    st.Page("pages/explore.py", title="Explore", icon="🧭", default=True),
    st.Page("pages/compare.py", title="Compare", icon="⚖️"),
    st.Page("pages/study.py", title="Study", icon="📚"),
    st.Page("pages/calculator.py", title="Calculator", icon="🧮"),
    st.Page("pages/editor.py", title="Your patterns", icon="✏️"),
    st.Page("pages/method.py", title="Method", icon="📐"),
]
st.navigation(pages).run()
