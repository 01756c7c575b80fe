"""Architecture Explorer: the Streamlit entry point. Builds the navigation only.

Pages written by other parts of the project are registered when their file exists,
so the app runs whatever subset is present.
"""

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="Architecture Explorer", page_icon="🧭", layout="wide")

HERE = Path(__file__).resolve().parent

OPTIONAL = [  # (file, title, icon)
    ("pages/compare.py", "Compare", "⚖️"),
    ("pages/study.py", "Study", "📚"),
    ("pages/calculator.py", "Calculator", "🧮"),
    ("pages/editor.py", "Your patterns", "✏️"),
]

pages = [st.Page("pages/explore.py", title="Explore", icon="🧭", default=True)]
pages += [st.Page(path, title=title, icon=icon) for path, title, icon in OPTIONAL if (HERE / path).exists()]
pages.append(st.Page("pages/method.py", title="Method", icon="📐"))
st.navigation(pages).run()
