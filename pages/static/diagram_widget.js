// The interactive architecture diagram: Graphviz laid out in the browser (WebAssembly; or an SVG laid
// out on the server as a fallback), shown in the page with
// wheel / pinch zoom, drag to pan, fit and 1:1 buttons, a hover card of key figures per node and edge,
// click or Enter to select a component, and keyboard zoom (+, -, 0) and pan (arrow keys). A plain wheel
// zooms once the diagram is in use (focus inside it: a click, a button, Tab) or with Ctrl / Cmd held
// (a trackpad pinch); otherwise it scrolls the page and a note says how to zoom.
//
// Data from Python (pages/diagram_widget.py):
//   source     the DOT (source_kind "dot") or server-drawn SVG ("svg"), or null when the browser already
//              holds the one named source_key
//   source_key content hash of the source
//   viz_url    where the vendored Graphviz (viz.js) is served by the app's own server (DOT only)
//   layout     pattern + view: the zoom is kept while it stays the same (a slider move), reset otherwise
//   spots      {svg id: {kind, id, title, lines}}: the hover cards and what a click selects
//   selectable whether a click on a node selects it (trigger "select" with the component id)
//   highlight  svg ids to outline; highlight_note says why (shown under the toolbar)
//   dim        true: fade what is not highlighted
//   label      accessible name of the diagram
// Triggers to Python: "select" (component id), "missing" (a source_key this browser does not hold),
// "layout_failed" (why the browser could not lay a DOT out: Python then sends SVG laid out on the server).
//
// No network outside the app's own server; one library, vendored: pages/static/vendor/viz (Graphviz).

const SVG_CACHE = new Map(); // source_key -> Promise of page-ready svg text, least recently used first
let VIZ = null; // Promise of the Graphviz instance, loaded once per page
const CACHE_MAX = 48;
const VIEWS = new WeakMap(); // parent element -> its view
const MIN_SCALE = 0.25;
const MAX_SCALE = 12;
const STEP = 1.25;
const PX_PER_PT = 96 / 72;
const DRAG_PX = 4;

function remember(key, svg) {
  SVG_CACHE.delete(key);
  SVG_CACHE.set(key, svg);
  while (SVG_CACHE.size > CACHE_MAX) SVG_CACHE.delete(SVG_CACHE.keys().next().value);
}

function loadViz(url) {
  if (!VIZ) {
    VIZ = import(new URL(url, window.location.origin).href).then((m) => m.instance());
    VIZ.catch(() => { VIZ = null; }); // a later diagram may try again
  }
  return VIZ;
}

// What explorer/render/diagram_data.page_svg does on the server: no prolog or comments, no native tooltips
// (every <title> becomes a <desc>, xlink:title goes); ids, classes and drawing stay.
const PROLOG = /^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!DOCTYPE[^>]*>\s*)?(?:<!--[\s\S]*?-->\s*)*/;
function pageSvg(text) {
  return text.replace(PROLOG, "").replace(/<!--[\s\S]*?-->\s*/g, "").replace(/\s+xlink:title="[^"]*"/g, "")
    .replaceAll("<title>", "<desc>").replaceAll("</title>", "</desc>").trim();
}

// The page-ready SVG of a source: laid out here when it is DOT.
function layOut(d) {
  if (d.source_kind !== "dot") return Promise.resolve(d.source);
  return loadViz(d.viz_url).then((viz) => pageSvg(viz.renderString(d.source, { format: "svg", engine: "dot" })));
}

function el(tag, attrs = {}, text = "") {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

function mount(parent) {
  const root = el("div", { class: "ae-diagram", "data-testid": "aeDiagram" });
  const bar = el("div", { class: "ae-toolbar", role: "toolbar", "aria-label": "Diagram zoom" });
  const buttons = [
    ["in", "+", "Zoom in (+)"], ["out", "−", "Zoom out (−)"], ["fit", "Fit", "Fit the whole diagram (0)"],
    ["actual", "1:1", "Actual size: text at its natural size"],
  ];
  for (const [act, text, title] of buttons) {
    const b = el("button", { type: "button", "data-act": act, title, "aria-label": title }, text);
    bar.appendChild(b);
  }
  const hint = el("span", { class: "ae-hint" });
  bar.appendChild(hint);
  const note = el("div", { class: "ae-note" });
  note.hidden = true;
  const stage = el("div", { class: "ae-stage", tabindex: "0", role: "group" });
  const card = el("div", { class: "ae-card", role: "status", "aria-live": "polite" });
  card.hidden = true;
  stage.appendChild(card);
  root.append(bar, note, stage);
  parent.appendChild(root);

  const v = {
    root, stage, card, note, hint, svg: null, port: null, vb: null, natural: null,
    k: 1, x: 0, y: 0, shownKey: null, layout: null, requested: null, spots: {}, data: {},
    selectable: false, pinned: null, trigger: () => {}, pointers: new Map(), gesture: null,
  };

  // ------------------------------------------------------------------ transform
  v.apply = () => {
    if (!v.port) return;
    v.port.setAttribute("transform", `translate(${v.x.toFixed(2)} ${v.y.toFixed(2)}) scale(${v.k.toFixed(4)})`);
    v.root.dataset.zoom = v.k.toFixed(3);
    v.stage.style.touchAction = v.k > 1.01 ? "none" : "pan-y";
  };
  v.userPoint = (clientX, clientY) => { // a screen point in the SVG's viewBox units
    const m = v.svg.getScreenCTM();
    if (!m) return { x: 0, y: 0 };
    const p = new DOMPoint(clientX, clientY).matrixTransform(m.inverse());
    return { x: p.x, y: p.y };
  };
  v.unitPx = () => { const m = v.svg && v.svg.getScreenCTM(); return m && m.a ? m.a : 1; }; // px per viewBox unit, zoom left out
  v.zoomAt = (factor, ux, uy) => {
    const k = Math.min(MAX_SCALE, Math.max(MIN_SCALE, v.k * factor));
    const f = k / v.k;
    v.x = ux - (ux - v.x) * f;
    v.y = uy - (uy - v.y) * f;
    v.k = k;
    v.apply();
  };
  v.center = () => ({ x: v.vb.x + v.vb.w / 2, y: v.vb.y + v.vb.h / 2 });
  v.zoomCenter = (factor) => { if (!v.vb) return; const c = v.center(); v.zoomAt(factor, c.x, c.y); };
  v.fit = () => { v.k = 1; v.x = 0; v.y = 0; v.apply(); };
  v.actual = () => { // 1 pt of the layout = 4/3 px on screen, centred on the selection or the current middle
    if (!v.vb) return;
    const sel = v.svg.querySelector("g.node.ae-picked, g.node.selected");
    let p = v.center();
    if (sel) {
      const r = sel.getBoundingClientRect();
      p = v.userPoint(r.left + r.width / 2, r.top + r.height / 2);
    }
    const qx = (p.x - v.x) / v.k, qy = (p.y - v.y) / v.k; // the diagram point shown at p
    v.k = Math.min(MAX_SCALE, Math.max(MIN_SCALE, PX_PER_PT / v.unitPx()));
    const c = v.center();
    v.x = c.x - v.k * qx;
    v.y = c.y - v.k * qy;
    v.apply();
  };

  // ------------------------------------------------------------------ size
  v.size = () => {
    if (!v.natural) return;
    const w = v.root.clientWidth || v.natural.w;
    const fitScale = Math.min(1, w / v.natural.w);
    const maxH = Math.max(320, window.innerHeight * 0.78);
    const h = Math.max(160, Math.min(maxH, v.natural.h * fitScale));
    v.stage.style.height = `${Math.round(h)}px`;
  };
  const ro = new ResizeObserver(() => v.size());
  ro.observe(root);

  // ------------------------------------------------------------------ cards
  v.spotOf = (target) => {
    const g = target && target.closest ? target.closest("g.node, g.edge") : null;
    if (!g || !v.svg || !v.svg.contains(g)) return null;
    const spot = v.spots[g.id];
    return spot ? { g, spot } : null;
  };
  v.showCard = (hit, clientX, clientY) => {
    const { spot } = hit;
    card.replaceChildren();
    card.appendChild(el("strong", {}, spot.title));
    for (const line of spot.lines) card.appendChild(el("div", {}, line));
    if (spot.kind === "node" && spot.id && v.selectable) {
      card.appendChild(el("div", { class: "ae-card-hint" }, "Click or Enter: details below"));
    }
    card.hidden = false;
    const box = stage.getBoundingClientRect();
    let left = clientX - box.left + 14;
    let top = clientY - box.top + 14;
    const cw = card.offsetWidth, ch = card.offsetHeight;
    if (left + cw > box.width - 4) left = Math.max(4, clientX - box.left - cw - 14);
    if (top + ch > box.height - 4) top = Math.max(4, box.height - ch - 4);
    card.style.left = `${left}px`;
    card.style.top = `${top}px`;
  };
  v.cardAtElement = (hit) => {
    const r = hit.g.getBoundingClientRect();
    v.showCard(hit, r.right - 10, r.top + 4);
  };
  const wheelNote = el("div", { class: "ae-wheel-hint", "aria-hidden": "true" },
    "Click the diagram (or hold Ctrl) to zoom with the wheel");
  wheelNote.hidden = true;
  stage.appendChild(wheelNote);
  let wheelTimer = null;
  v.wheelHint = () => {
    wheelNote.hidden = false;
    clearTimeout(wheelTimer);
    wheelTimer = setTimeout(() => { wheelNote.hidden = true; }, 1400);
  };
  v.hideCard = () => { if (!v.pinned) card.hidden = true; };
  v.unpin = () => { v.pinned = null; card.hidden = true; };

  v.select = (hit) => {
    if (hit.spot.kind === "node" && hit.spot.id && v.selectable) {
      for (const g of v.svg.querySelectorAll("g.node.ae-picked")) g.classList.remove("ae-picked");
      hit.g.classList.add("ae-picked");
      v.trigger("select", hit.spot.id);
    }
    v.pinned = hit.g.id;
    v.cardAtElement(hit);
  };

  // ------------------------------------------------------------------ pointer: pan, pinch, click, hover
  const onMove = (e) => {
    if (!v.pointers.has(e.pointerId)) return;
    const prev = v.pointers.get(e.pointerId);
    v.pointers.set(e.pointerId, { ...prev, cx: e.clientX, cy: e.clientY });
    const g = v.gesture;
    if (!g) return;
    if (v.pointers.size >= 2) {
      const [a, b] = [...v.pointers.values()];
      const dist = Math.hypot(a.cx - b.cx, a.cy - b.cy);
      const mid = v.userPoint((a.cx + b.cx) / 2, (a.cy + b.cy) / 2);
      if (g.dist) v.zoomAt(dist / g.dist, mid.x, mid.y);
      g.dist = dist;
      g.moved = true;
      e.preventDefault();
      return;
    }
    const dx = e.clientX - g.lastX, dy = e.clientY - g.lastY;
    if (!g.moved && Math.hypot(e.clientX - g.startX, e.clientY - g.startY) < DRAG_PX) return;
    if (!g.moved) { g.moved = true; root.classList.add("ae-dragging"); v.unpin(); }
    const u = v.unitPx(); // screen px per viewBox unit before the zoom
    v.x += dx / u;
    v.y += dy / u;
    g.lastX = e.clientX;
    g.lastY = e.clientY;
    v.apply();
    e.preventDefault();
  };
  const onUp = (e) => {
    if (!v.pointers.has(e.pointerId)) return;
    const p = v.pointers.get(e.pointerId);
    v.pointers.delete(e.pointerId);
    const g = v.gesture;
    if (v.pointers.size === 0) {
      window.removeEventListener("pointermove", onMove);
      window.removeEventListener("pointerup", onUp);
      window.removeEventListener("pointercancel", onUp);
      root.classList.remove("ae-dragging");
      v.gesture = null;
      if (g && !g.moved && e.type === "pointerup") {
        const hit = v.spotOf(p.target);
        if (hit) v.select(hit);
        else v.unpin();
      }
    } else if (g) {
      const [rest] = [...v.pointers.values()];
      g.dist = null;
      g.lastX = rest.cx;
      g.lastY = rest.cy;
    }
  };
  stage.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || e.target.closest(".ae-card")) return;
    if (!v.spotOf(e.target)) stage.focus({ preventScroll: true });
    v.pointers.set(e.pointerId, { target: e.target, cx: e.clientX, cy: e.clientY });
    if (v.pointers.size === 1) {
      v.gesture = { startX: e.clientX, startY: e.clientY, lastX: e.clientX, lastY: e.clientY, moved: false, dist: null };
      window.addEventListener("pointermove", onMove, { passive: false });
      window.addEventListener("pointerup", onUp);
      window.addEventListener("pointercancel", onUp);
    } else if (v.gesture) {
      v.gesture.dist = null;
    }
  });
  stage.addEventListener("wheel", (e) => {
    if (!v.svg) return;
    if (!(e.ctrlKey || e.metaKey || root.contains(document.activeElement))) {
      v.wheelHint(); // the page keeps scrolling past a diagram nobody is using
      return;
    }
    e.preventDefault();
    const lines = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
    const p = v.userPoint(e.clientX, e.clientY);
    v.zoomAt(Math.exp(-e.deltaY * lines * 0.0015), p.x, p.y);
  }, { passive: false });
  stage.addEventListener("pointerover", (e) => {
    if (v.gesture && v.gesture.moved) return;
    const hit = v.spotOf(e.target);
    if (hit && !v.pinned) v.showCard(hit, e.clientX, e.clientY);
  });
  stage.addEventListener("pointermove", (e) => {
    if (v.pinned || v.gesture) return;
    const hit = v.spotOf(e.target);
    if (hit) v.showCard(hit, e.clientX, e.clientY);
  });
  stage.addEventListener("pointerout", (e) => {
    const to = v.spotOf(e.relatedTarget);
    if (!to) v.hideCard();
  });

  // ------------------------------------------------------------------ keyboard
  stage.addEventListener("focusin", (e) => {
    const hit = v.spotOf(e.target);
    if (hit) { v.pinned = null; v.cardAtElement(hit); }
  });
  stage.addEventListener("focusout", (e) => {
    if (!stage.contains(e.relatedTarget)) v.unpin();
  });
  stage.addEventListener("keydown", (e) => {
    const hit = v.spotOf(e.target);
    if (hit && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      v.select(hit);
      return;
    }
    const pan = 40;
    const keys = {
      "+": () => v.zoomCenter(STEP), "=": () => v.zoomCenter(STEP), "-": () => v.zoomCenter(1 / STEP),
      "_": () => v.zoomCenter(1 / STEP), "0": () => v.fit(), Escape: () => v.unpin(),
    };
    if (e.target === stage) {
      Object.assign(keys, {
        ArrowLeft: () => v.panPx(pan, 0), ArrowRight: () => v.panPx(-pan, 0),
        ArrowUp: () => v.panPx(0, pan), ArrowDown: () => v.panPx(0, -pan),
      });
    }
    const act = keys[e.key];
    if (act && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      act();
    }
  });
  v.panPx = (dx, dy) => { const u = v.unitPx(); v.x += dx / u; v.y += dy / u; v.apply(); };

  bar.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-act]");
    if (!b) return;
    const act = b.dataset.act;
    if (act === "in") v.zoomCenter(STEP);
    else if (act === "out") v.zoomCenter(1 / STEP);
    else if (act === "fit") v.fit();
    else if (act === "actual") v.actual();
  });

  // ------------------------------------------------------------------ data
  v.place = (svgText) => {
    const holder = document.createElement("div");
    holder.innerHTML = svgText;
    const svg = holder.querySelector("svg");
    if (!svg) return false;
    const vb = svg.viewBox && svg.viewBox.baseVal;
    const wPt = parseFloat(svg.getAttribute("width")) || (vb ? vb.width : 400);
    const hPt = parseFloat(svg.getAttribute("height")) || (vb ? vb.height : 300);
    v.natural = { w: wPt * PX_PER_PT, h: hPt * PX_PER_PT };
    v.vb = vb && vb.width ? { x: vb.x, y: vb.y, w: vb.width, h: vb.height } : { x: 0, y: 0, w: wPt, h: hPt };
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    svg.setAttribute("role", "img");
    const port = document.createElementNS("http://www.w3.org/2000/svg", "g");
    port.setAttribute("class", "ae-viewport");
    while (svg.firstChild) port.appendChild(svg.firstChild);
    svg.appendChild(port);
    if (v.svg) v.svg.replaceWith(svg);
    else stage.insertBefore(svg, card);
    v.svg = svg;
    v.port = port;
    v.size();
    return true;
  };
  v.decorate = () => {
    const d = v.data;
    v.svg.setAttribute("aria-label", d.label || "Architecture diagram");
    for (const g of v.svg.querySelectorAll("g.node, g.edge")) {
      const spot = v.spots[g.id];
      if (!spot) continue;
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", spot.kind === "node" && spot.id && v.selectable ? "button" : "img");
      g.setAttribute("aria-label", [spot.title, ...spot.lines].join(". "));
    }
    const marked = new Set(d.highlight || []);
    for (const g of v.svg.querySelectorAll("g.node, g.edge")) {
      g.classList.toggle("ae-highlight", marked.has(g.id));
      g.classList.remove("ae-picked");
    }
    v.svg.classList.toggle("ae-dim", !!d.dim && marked.size > 0);
    v.note.hidden = !d.highlight_note;
    v.note.textContent = d.highlight_note || "";
  };
  v.seq = 0;
  v.update = (d) => {
    const seq = ++v.seq;
    performance.mark("ae-diagram-data"); // timing marks for profiling: data in, then SVG drawn
    let pending = d.source ? null : SVG_CACHE.get(d.source_key);
    if (d.source) {
      pending = SVG_CACHE.get(d.source_key) || layOut(d);
      pending.catch(() => SVG_CACHE.delete(d.source_key));
    }
    if (!pending) { // Python thought this browser holds it (evicted, or a new tab): ask for it once
      if (v.requested !== d.source_key) { v.requested = d.source_key; v.trigger("missing", d.source_key); }
      return;
    }
    remember(d.source_key, pending);
    pending.then((text) => {
      if (seq === v.seq) v.show(d, text); // a newer update wins
    }, (err) => {
      if (seq !== v.seq || d.source_kind !== "dot") return;
      root.dataset.layoutError = String(err && err.message ? err.message : err);
      v.trigger("layout_failed", `The browser could not lay the diagram out (${root.dataset.layoutError}).`);
    });
  };
  v.show = (d, text) => {
    v.data = d;
    v.spots = d.spots || {};
    v.selectable = !!d.selectable;
    v.hint.textContent = "Click it, then scroll to zoom (or Ctrl + scroll, pinch) · drag to pan · hover or Tab for "
      + (v.selectable ? "figures · click or Enter to select" : "figures");
    if (v.shownKey !== d.source_key) {
      const active = document.activeElement;
      const focusedId = v.svg && active && v.svg.contains(active) ? active.id : null;
      if (!v.place(text)) return;
      v.refocus = focusedId;
      v.shownKey = d.source_key;
      root.dataset.svgKey = d.source_key;
      root.dataset.layout = d.source_kind === "dot" ? "browser" : "server";
      if (v.layout !== d.layout) { v.layout = d.layout; v.k = 1; v.x = 0; v.y = 0; }
      v.apply();
      if (v.pinned) {
        const g = v.svg.querySelector(`[id="${CSS.escape(v.pinned)}"]`);
        if (!g) v.unpin();
      }
    }
    v.decorate();
    performance.mark("ae-diagram-drawn");
    if (v.refocus) { // a selection redraws the SVG: keyboard focus stays on the same component
      const g = v.svg.querySelector(`[id="${CSS.escape(v.refocus)}"]`);
      v.refocus = null;
      if (g) g.focus({ preventScroll: true });
    }
  };
  v.destroy = () => { ro.disconnect(); root.remove(); };
  return v;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let view = VIEWS.get(parentElement);
  if (!view) {
    view = mount(parentElement);
    VIEWS.set(parentElement, view);
  }
  view.trigger = setTriggerValue;
  view.update(data || {});
  return () => {
    view.destroy();
    VIEWS.delete(parentElement);
  };
}
