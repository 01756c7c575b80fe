"""An Anki deck of a pattern: a card per step of its 7-step notes, and a card per estimation question.

Built with ``genanki``. Everything that Anki keys on is derived from the pattern id, so exporting
again and importing the new deck updates the cards already studied instead of adding copies:
the deck id and the two note types' ids hash the pattern id, and every note's guid hashes the
pattern id and what the card asks. The ``.apkg`` bytes are deterministic for the same pattern and
engine: genanki writes into an in-memory SQLite database at a fixed timestamp, and the zip is
written here with fixed entry times.

The estimation questions are :func:`explorer.study.practice.generate_questions`' at the pattern's
defaults (seed 0) and at :data:`QUESTION_SEEDS` other traffic levels; each answer is the engine's
figure, and the back of the card shows the figure's trace (formula and inputs).

Examples
--------
>>> from explorer.model.library import load
>>> rp = load("two_stage_recommender")
>>> cards = deck_cards(rp)
>>> [c.kind for c in cards][:2], sum(c.kind == "estimate" for c in cards) >= 6
(['step', 'step'], True)
>>> deck_bytes(rp) == deck_bytes(rp)
True
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import sqlite3
import zipfile
from dataclasses import dataclass

import genanki

from explorer.errors import ExplorerError, ExportError
from explorer.model.loader import ResolvedPattern
from explorer.study.practice import STEPS, Question, generate_questions, quiz_scenario, traffic_parameter
from explorer.units import fmt

QUESTION_SEEDS = (0, 1, 2)
"""Scenarios the estimation questions are asked at: 0 is the pattern's defaults, the others draw the traffic
between a quarter and four times its default (:func:`explorer.study.practice.quiz_scenario`)."""
QUESTIONS_PER_SEED = 6
"""Questions per scenario (one of each kind the pattern allows)."""
TIMESTAMP = 1_700_000_000.0
"""The fixed time (seconds since 1970) written into the collection, so the bytes never depend on the clock."""
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
DECK_PREFIX = "Architecture Explorer"

CSS = """.card { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 18px;
  text-align: left; color: #1f2328; background: #ffffff; line-height: 1.45; }
.night_mode .card { color: #e6edf3; background: #0d1117; }
.pattern { font-size: 13px; color: #57606a; }
.prompt { font-style: italic; }
.answer { font-size: 22px; font-weight: bold; }
.trace { font-size: 14px; color: #57606a; }
.trace li { margin-bottom: 4px; }
code { font-family: Menlo, Consolas, monospace; font-size: 90%; }
"""


@dataclass(frozen=True)
class Card:
    """One note of the deck, before it is written.

    Attributes
    ----------
    kind : {"step", "estimate"}
        A step of the notes, or an estimation question.
    key : str
        What the card asks, unique in the deck (its guid hashes the pattern id and this key).
    fields : tuple of str
        The note's fields (HTML) in the order of its note type's fields.
    tags : tuple of str
    """

    kind: str
    key: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]


def stable_id(*parts: str) -> int:
    """An Anki id (deck or note type) from text: 31 bits of its SHA-256, at least 2³⁰ (never 0 or 1).

    Examples
    --------
    >>> stable_id("deck", "two_stage_recommender") == stable_id("deck", "two_stage_recommender")
    True
    >>> 2**30 <= stable_id("x") < 2**31
    True
    """
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return (1 << 30) | (int.from_bytes(digest[:4], "big") & ((1 << 30) - 1))


# --------------------------------------------------------------------------- Markdown → card HTML

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_CODE = re.compile(r"`([^`]+)`")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def inline_html(text: str) -> str:
    """One line of Markdown as HTML: escaped first, then ``**bold**``, ``*italic*`` and `` `code` ``.

    Examples
    --------
    >>> inline_html("How many **shards** for `item_features` <b>?")
    'How many <b>shards</b> for <code>item_features</code> &lt;b&gt;?'
    """
    s = html.escape(str(text), quote=False)
    s = _CODE.sub(r"<code>\1</code>", s)
    s = _BOLD.sub(r"<b>\1</b>", s)
    return _ITALIC.sub(r"<i>\1</i>", s)


def markdown_html(text: str) -> str:
    """The pattern's Markdown notes as simple card HTML: paragraphs, bulleted and numbered lists, inline marks.

    Everything is escaped: a note's own HTML shows as text and cannot run on the card.

    Examples
    --------
    >>> markdown_html("Two stages:\\n- retrieval\\n- ranking\\n\\nThen **re-rank**.")
    '<p>Two stages:</p><ul><li>retrieval</li><li>ranking</li></ul><p>Then <b>re-rank</b>.</p>'
    """
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []
    list_tag = ""

    def flush_para() -> None:
        if para:
            out.append("<p>" + inline_html(" ".join(para)) + "</p>")
            para.clear()

    def flush_list() -> None:
        nonlocal list_tag
        if items:
            out.append(f"<{list_tag}>" + "".join(f"<li>{inline_html(i)}</li>" for i in items) + f"</{list_tag}>")
            items.clear()
        list_tag = ""

    for raw in str(text).replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        bullet, numbered = _BULLET.match(raw), _NUMBERED.match(raw)
        if not line:
            flush_para()
            flush_list()
        elif bullet or numbered:
            flush_para()
            tag = "ul" if bullet else "ol"
            if list_tag and list_tag != tag:
                flush_list()
            list_tag = tag
            items.append((bullet or numbered).group(1))
        elif items and raw[:1].isspace():
            items[-1] += " " + line  # a wrapped list item
        else:
            flush_list()
            para.append(line.lstrip("#").strip() if line.startswith("#") else line)
    flush_para()
    flush_list()
    return "".join(out)


def _list_html(lines: tuple[str, ...] | list[str], css: str = "trace") -> str:
    if not lines:
        return ""
    return f'<ul class="{css}">' + "".join(f"<li>{inline_html(line)}</li>" for line in lines) + "</ul>"


# --------------------------------------------------------------------------- cards

def _scenario_text(rp: ResolvedPattern, values: dict[str, float]) -> str:
    """The scenario a question is asked at, in words: the traffic parameter's value, or "defaults"."""
    tp = traffic_parameter(rp)
    defaults = rp.defaults()
    if tp is None or values.get(tp.name) == defaults.get(tp.name):
        return "At the pattern's defaults."
    unit = f" {tp.unit}" if tp.unit else ""
    return f"At {tp.label} = {fmt(values[tp.name])}{unit}; every other parameter at its default."


def _answer_text(q: Question) -> str:
    if q.percent:
        return f"{q.answer:.1%}"
    return f"{fmt(q.answer)} {q.unit}".strip()


def _question_key(q: Question) -> str:
    """What a question asks, without its position in the generated list (``…:<index>``)."""
    return q.id.rsplit(":", 1)[0]


def deck_cards(rp: ResolvedPattern) -> list[Card]:
    """The deck's notes: one per step of the notes that has text, then the estimation questions.

    Raises
    ------
    ExportError
        When the pattern has neither notes nor questions to make a card of.
    """
    p = rp.pattern
    tag = re.sub(r"[^A-Za-z0-9_-]+", "_", p.id)
    pattern_html = html.escape(p.title)
    cards: list[Card] = []
    for info in STEPS:
        body = (getattr(p.notes, info.key) or "").strip()
        if not body:
            continue
        front = f"Step {info.number}: {html.escape(info.title)}"
        cards.append(Card("step", f"step:{info.key}",
                          (pattern_html, front, html.escape(info.prompt), markdown_html(body)),
                          (tag, "seven_steps", f"step_{info.number}")))
    if p.notes.talking_points:
        cards.append(Card("step", "step:talking_points",
                          (pattern_html, "Wrap-up: the talking points",
                           "What would an interviewer expect to hear?", _list_html(p.notes.talking_points, "points")),
                          (tag, "seven_steps", "talking_points")))
    seen: set[str] = set()
    for seed in QUESTION_SEEDS:
        try:
            questions = generate_questions(rp, seed=seed, n=QUESTIONS_PER_SEED)
            values = quiz_scenario(rp, seed)
        except ExplorerError:
            continue
        for q in questions:
            key = f"estimate:{_question_key(q)}"
            if key in seen:
                continue
            seen.add(key)
            mode = "auto-sized design" if q.mode == "autosize" else "provisioned design"
            question = (f'<p>{inline_html(q.text)}</p>{_list_html(q.givens, "givens")}'
                        f'<p class="pattern">{html.escape(_scenario_text(rp, values))} The {mode}.</p>')
            answer = (f'<p class="answer">{html.escape(_answer_text(q))}</p>'
                      f'<p class="pattern">Counted right within {html.escape(q.tolerance_text())}.</p>')
            cards.append(Card("estimate", key, (pattern_html, question, answer, _list_html(q.explanation)),
                              (tag, "estimate", q.kind)))
    if not cards:
        raise ExportError(f"{p.id} has no study notes and no estimation questions to make cards of")
    return cards


def _models(pattern_id: str) -> dict[str, genanki.Model]:
    step = genanki.Model(
        stable_id("model", "step", pattern_id), f"{DECK_PREFIX}: 7-step note ({pattern_id})",
        fields=[{"name": "Pattern"}, {"name": "Step"}, {"name": "Prompt"}, {"name": "Notes"}],
        templates=[{"name": "Recall the step",
                    "qfmt": '<div class="pattern">{{Pattern}}</div><h3>{{Step}}</h3><p class="prompt">{{Prompt}}</p>',
                    "afmt": '{{FrontSide}}<hr id="answer">{{Notes}}'}],
        css=CSS, sort_field_index=1)
    estimate = genanki.Model(
        stable_id("model", "estimate", pattern_id), f"{DECK_PREFIX}: estimate ({pattern_id})",
        fields=[{"name": "Pattern"}, {"name": "Question"}, {"name": "Answer"}, {"name": "Trace"}],
        templates=[{"name": "Estimate",
                    "qfmt": '<div class="pattern">{{Pattern}}</div>{{Question}}',
                    "afmt": '{{FrontSide}}<hr id="answer">{{Answer}}{{Trace}}'}],
        css=CSS, sort_field_index=1)
    return {"step": step, "estimate": estimate}


def build_deck(rp: ResolvedPattern) -> genanki.Deck:
    """The pattern's deck: ``Architecture Explorer::<title>``, id and note guids derived from the pattern id."""
    models = _models(rp.id)
    deck = genanki.Deck(stable_id("deck", rp.id), f"{DECK_PREFIX}::{rp.pattern.title}",
                        description=html.escape(rp.pattern.summary.strip()))
    for card in deck_cards(rp):
        deck.add_note(genanki.Note(model=models[card.kind], fields=list(card.fields), tags=list(card.tags),
                                   guid=genanki.guid_for(rp.id, card.key)))
    return deck


def deck_bytes(rp: ResolvedPattern) -> bytes:
    """The ``.apkg`` file (a zip holding ``collection.anki2`` and ``media``), deterministic for the same inputs."""
    deck = build_deck(rp)
    conn = sqlite3.connect(":memory:")
    try:
        cursor = conn.cursor()
        genanki.Package(deck).write_to_db(cursor, TIMESTAMP, _ids())
        conn.commit()
        collection = conn.serialize()
    finally:
        conn.close()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, data in (("collection.anki2", collection), ("media", b"{}")):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, data)
    return buf.getvalue()


def _ids():
    """Note and card ids from the fixed timestamp in milliseconds, counting up (as genanki does with the clock)."""
    n = int(TIMESTAMP * 1000)
    while True:
        yield n
        n += 1
