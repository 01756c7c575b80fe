"""Architecture Explorer: the Streamlit entry point. Builds the navigation only."""

import streamlit as st

st.set_page_config(page_title="Architecture Explorer", page_icon="🧭", layout="wide")

pages = [
    st.Page("pages/explore.py", title="Explore", icon="🧭", default=True),
]
st.navigation(pages).run()
