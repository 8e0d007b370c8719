"""Watch backprop step by step: one self-contained HTML page over a Value's graph.

``draw_html(root)`` renders ``draw(root)`` to SVG with Graphviz's ``dot`` and puts it in a
page with a small script and style and nothing else: no network request of any kind, so
the page works from a file, offline, in a notebook. Its controls step through

* **forward**: the Values in topological order, each revealed with its data, gradients 0;
* **backward**: the engine's own sweep, recorded once by ``engine.recorded_sweep``. At step
  k the k-th rule fires: its node is highlighted, the edges into it light up, and each
  parent's grad shows its value before and after the rule, so the accumulation into a
  reused Value is visible. Step 0 is the seed, ``root.grad = 1``.

The numbers are recorded as ``backward()`` computes them on a fresh graph, from zero
gradients, whatever the graph's ``.grad`` fields hold now (a graph drawn after
``backward()`` shows one backward pass, not the sum of all of them); the page never
computes a gradient itself. Hovering a node shows its label, op, data and grad in full
(``repr``), however the picture shortens them.

The SVG's nodes map back to Values through the names ``draw`` gives them (``v{index}``,
``op{index}``, index = position in ``topological_order(root)``), which Graphviz writes as
each node's ``<title>``.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from pathlib import Path
from typing import Any, Optional, Union

from .draw import _render, draw
from .engine import recorded_sweep, topological_order
from .value import Value

__all__ = ["draw_html", "StepThrough"]


def _short(x: float, digits: int) -> str:
    """``x`` to ``digits`` significant digits, as the picture shows numbers; zero is ``0``."""
    return "0" if x == 0 else f"{x:.{digits}g}"


def _json_for_script(data: Any) -> str:
    """``data`` as JSON that is safe inside ``<script>``: no ``<``, ``>`` or ``&`` at all.

    JSON strings may spell any character as ``\\uXXXX``, and outside strings JSON has none
    of these characters, so no label can close the script or open a comment.
    ``ensure_ascii`` spells U+2028/U+2029 and lone surrogates the same way.
    """
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page_data(root: Value, digits: int) -> dict:
    """What the script shows, as JSON-able data: every number as its ``repr`` string
    (JSON has no nan or inf), with the short form the picture uses beside it."""
    order = topological_order(root)
    index = {id(node): i for i, node in enumerate(order)}
    shown: dict = {}

    def number(x: float) -> str:
        text = repr(x)
        if text not in shown:
            shown[text] = _short(x, digits)
        return text

    nodes = [
        {
            "label": node.label,
            "op": node.op,
            "data": number(node.data),
            "parents": [index[id(parent)] for parent in node.parents],
        }
        for node in order
    ]
    steps = []
    grads = {len(order) - 1: number(1.0)}  # each node's gradient as the sweep goes
    for node, parents, before, after in recorded_sweep(root):
        at = index[id(node)]
        parent_at = [index[id(parent)] for parent in parents]
        steps.append({
            "node": at,
            "grad": grads.get(at, number(0.0)),  # complete when its rule runs
            "parents": parent_at,
            "before": [number(g) for g in before],
            "after": [number(g) for g in after],
        })
        grads.update(zip(parent_at, steps[-1]["after"]))
    return {"nodes": nodes, "seed": number(1.0), "zero": number(0.0), "steps": steps,
            "short": shown}


# -- the page ------------------------------------------------------------------------------
#
# Every selector is under .cr-page, so that several pages can share one notebook. The
# script finds its page as its own parent element (or by id), reads the JSON beside it,
# and only ever sets text with textContent: no user string is parsed as HTML.

_STYLE = """
.cr-page { font: 13px Helvetica, Arial, sans-serif; color: #212529; }
.cr-page .cr-controls { display: flex; flex-wrap: wrap; gap: 6px; align-items: center;
  margin: 6px 0; }
.cr-page button { font: inherit; padding: 3px 10px; border: 1px solid #adb5bd;
  border-radius: 4px; background: #f8f9fa; cursor: pointer; }
.cr-page button[aria-pressed="true"] { background: #343a40; color: white; }
.cr-page button:disabled { opacity: 0.45; cursor: default; }
.cr-page .cr-slider { flex: 1 1 160px; }
.cr-page .cr-status { margin: 4px 0; min-height: 1.4em; }
.cr-page .cr-figure { position: relative; overflow: auto; border: 1px solid #dee2e6; }
.cr-page .cr-figure svg { display: block; }
.cr-page g.cr-pending { opacity: 0.12; }
.cr-page g.cr-firing > polygon, .cr-page g.cr-firing > ellipse { stroke: #e8590c;
  stroke-width: 3px; }
.cr-page g.cr-parent > polygon, .cr-page g.cr-parent > ellipse { stroke: #1971c2;
  stroke-width: 3px; }
.cr-page g.cr-lit > path { stroke: #e8590c; stroke-width: 2.5px; }
.cr-page g.cr-lit > polygon { stroke: #e8590c; fill: #e8590c; }
.cr-page text.cr-changed { fill: #1971c2; font-weight: bold; }
.cr-page .cr-tip { position: absolute; z-index: 1; pointer-events: none; max-width: 40em;
  padding: 6px 8px; background: #fff; border: 1px solid #495057; border-radius: 4px;
  box-shadow: 0 2px 6px rgba(0, 0, 0, 0.2); font: 12px monospace; white-space: pre-wrap;
  overflow-wrap: anywhere; }
.cr-page table { border-collapse: collapse; margin: 6px 0; }
.cr-page th, .cr-page td { border: 1px solid #dee2e6; padding: 2px 8px; text-align: left;
  font-family: monospace; }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var script = document.currentScript;
  var page = script ? script.parentElement : document.getElementById("__ID__");
  var data = JSON.parse(page.querySelector("script.cr-data").textContent);
  var nodes = data.nodes, steps = data.steps, root = nodes.length - 1;
  var figure = page.querySelector(".cr-figure"), tip = page.querySelector(".cr-tip");
  var slider = page.querySelector(".cr-slider"), status = page.querySelector(".cr-status");
  var table = page.querySelector(".cr-grads"), rows = table.querySelector("tbody");
  var each = function (list, f) { Array.prototype.forEach.call(list, f); };

  // Map the SVG back to Values: graphviz writes each node's name as its <title>.
  // The titles go, so that the browser's own tooltip does not cover ours.
  var groups = {}, edges = [];
  each(figure.querySelectorAll("svg g"), function (g) {
    var title = g.querySelector(":scope > title");
    if (!title) { return; }
    var name = title.textContent;
    g.removeChild(title);
    if (g.classList.contains("node")) {
      groups[name] = g;
    } else if (g.classList.contains("edge")) {
      var ends = /^(\w+).*?->(\w+)/.exec(name);
      if (ends) { edges.push({g: g, tail: ends[1], head: ends[2]}); }
    }
  });
  // Fit the picture to the page's width, unless it would shrink to less than half: then
  // its text would be too small to read, and it scrolls instead.
  var svg = figure.querySelector("svg");
  if (svg.width.baseVal.value <= 2 * figure.clientWidth) {
    svg.style.maxWidth = "100%";
    svg.style.height = "auto";
  }
  var gradText = nodes.map(function (node, i) {
    var g = groups["v" + i], found = null;
    if (g) {
      each(g.querySelectorAll("text"), function (t) {
        if (/^\s*grad\b/.test(t.textContent)) { found = t; }
      });
    }
    if (found) {
      found.crSize = parseFloat(found.getAttribute("font-size")) || 11;
      found.crRoom = room(found, g);
      found.crShown = found.textContent;
    }
    return found;
  });

  function room(text, g) {  // the width of a record field: between the lines either side
    var x = parseFloat(text.getAttribute("x")), left = -Infinity, right = Infinity;
    var outline = g.querySelector("polygon"), edges = [];
    if (outline) {
      var box = outline.getBBox();
      edges.push(box.x, box.x + box.width);
    }
    each(g.querySelectorAll("polyline"), function (line) {
      var box = line.getBBox();
      if (box.width < 0.5) { edges.push(box.x); }  // a vertical line between two fields
    });
    edges.forEach(function (e) {
      if (e <= x && e > left) { left = e; }
      if (e >= x && e < right) { right = e; }
    });
    var width = 2 * Math.min(x - left, right - x) - 8;
    return isFinite(width) && width > 0 ? width : text.getComputedTextLength() + 10;
  }

  var mode = "backward", pos = 0, timer = null, grads = [];
  var short = function (repr) { return data.short[repr]; };
  var name = function (i) { return nodes[i].label ? nodes[i].label + " (v" + i + ")" : "v" + i; };
  var last = function () { return mode === "forward" ? nodes.length - 1 : steps.length; };

  function setGradText(i, text, changed) {
    var t = gradText[i];
    if (!t) { return; }
    if (t.crShown !== text) {
      t.textContent = text;
      t.crShown = text;
      t.setAttribute("font-size", t.crSize);
      var length = t.getComputedTextLength();
      if (length > t.crRoom && t.crRoom > 10) {
        t.setAttribute("font-size", (t.crSize * t.crRoom / length).toFixed(2));
      }
    }
    t.classList.toggle("cr-changed", changed);
  }

  function mark(i, cls) {
    ["v" + i, "op" + i].forEach(function (n) { if (groups[n]) { groups[n].classList.add(cls); } });
  }

  function light(i, cls) {  // the edges into Value i's op node, and from it to Value i
    edges.forEach(function (e) {
      if (e.head === "op" + i || e.head === "v" + i) { e.g.classList.add(cls); }
    });
  }

  function row(parent, before, after) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-parent", "v" + parent);
    [name(parent), before, after].forEach(function (text, k) {
      var cell = document.createElement(k ? "td" : "th");
      cell.textContent = text;
      if (k) { cell.className = k === 1 ? "cr-before" : "cr-after"; }
      tr.appendChild(cell);
    });
    rows.appendChild(tr);
  }

  function show() {
    each(page.querySelectorAll(".cr-pending, .cr-firing, .cr-parent, .cr-lit"), function (g) {
      g.classList.remove("cr-pending", "cr-firing", "cr-parent", "cr-lit");
    });
    rows.textContent = "";
    grads = nodes.map(function () { return data.zero; });
    var changed = {}, arrows = {};
    if (mode === "forward") {
      for (var i = pos + 1; i < nodes.length; i++) {
        mark(i, "cr-pending");
        light(i, "cr-pending");
      }
      var node = nodes[pos];
      mark(pos, "cr-firing");
      light(pos, "cr-lit");
      node.parents.forEach(function (p) { mark(p, "cr-parent"); });
      status.textContent = "forward " + (pos + 1) + " of " + nodes.length + ": " + name(pos) +
        (node.op ? " = " + node.op + " of " + node.parents.map(name).join(", ") : ", a leaf") +
        ", data " + node.data;
      table.hidden = true;
    } else {
      grads[root] = data.seed;
      for (var s = 0; s < pos; s++) {
        steps[s].parents.forEach(function (p, k) { grads[p] = steps[s].after[k]; });
      }
      if (pos === 0) {
        mark(root, "cr-firing");
        status.textContent = "backward step 0 of " + steps.length + ": the seed, grad of " +
          name(root) + " = " + data.seed + "; next runs the first rule";
        table.hidden = true;
      } else {
        var step = steps[pos - 1];
        mark(step.node, "cr-firing");
        light(step.node, "cr-lit");
        step.parents.forEach(function (p, k) {
          mark(p, "cr-parent");
          changed[p] = true;
          arrows[p] = short(step.before[k]) + " \u2192 " + short(step.after[k]);
          row(p, step.before[k], step.after[k]);
        });
        status.textContent = "backward step " + pos + " of " + steps.length + ": the rule of " +
          name(step.node) + " (" + nodes[step.node].op + ") sends its grad " + step.grad +
          " into " + step.parents.map(name).join(", ");
        table.hidden = false;
      }
    }
    grads.forEach(function (g, i) {
      setGradText(i, "grad " + (arrows[i] || short(g)), !!changed[i]);
    });
    slider.max = last();
    slider.value = pos;
    page.setAttribute("data-mode", mode);
    page.setAttribute("data-step", pos);
    each(page.querySelectorAll("button[data-mode]"), function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-mode") === mode));
    });
    page.querySelector("[data-action=previous]").disabled = pos === 0;
    page.querySelector("[data-action=next]").disabled = pos === last();
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    page.querySelector("[data-action=play]").textContent = "play";
  }

  function go(to) { pos = Math.max(0, Math.min(last(), to)); show(); }

  var actions = {
    forward: function () { stop(); mode = "forward"; go(0); },
    backward: function () { stop(); mode = "backward"; go(0); },
    reset: function () { stop(); go(0); },
    previous: function () { stop(); go(pos - 1); },
    next: function () { stop(); go(pos + 1); },
    play: function () {
      if (timer !== null) { stop(); return; }
      if (pos === last()) { go(0); }
      page.querySelector("[data-action=play]").textContent = "pause";
      var every = parseInt(page.getAttribute("data-interval"), 10) || 800;  // ms a step
      timer = setInterval(function () {
        if (pos === last()) { stop(); } else { go(pos + 1); }
      }, every);
    }
  };
  each(page.querySelectorAll("button[data-action]"), function (b) {
    b.addEventListener("click", actions[b.getAttribute("data-action")]);
  });
  slider.addEventListener("input", function () { stop(); go(parseInt(slider.value, 10)); });
  page.addEventListener("keydown", function (event) {
    if (event.target === slider) { return; }
    if (event.key === "ArrowRight") { actions.next(); event.preventDefault(); }
    if (event.key === "ArrowLeft") { actions.previous(); event.preventDefault(); }
  });

  // Hover: the Value in full, at the step shown.
  Object.keys(groups).forEach(function (key) {
    var found = /^(?:v|op)(\d+)$/.exec(key);
    if (!found) { return; }
    var i = parseInt(found[1], 10), g = groups[key];
    g.setAttribute("data-value", i);
    g.addEventListener("mousemove", function (event) {
      var node = nodes[i], box = figure.getBoundingClientRect();
      tip.textContent = "v" + i + (node.label ? "  " + node.label : "  (no label)") +
        "\nop    " + (node.op || "(leaf)") + "\ndata  " + node.data + "\ngrad  " + grads[i];
      tip.style.left = (event.clientX - box.left + figure.scrollLeft + 14) + "px";
      tip.style.top = (event.clientY - box.top + figure.scrollTop + 14) + "px";
      tip.hidden = false;
    });
    g.addEventListener("mouseleave", function () { tip.hidden = true; });
  });
  show();
})();
"""

_BODY = """<div class="cr-page" id="{id}" tabindex="0">
<style>{style}</style>
<div class="cr-controls">
<button type="button" data-action="forward" data-mode="forward">forward</button>
<button type="button" data-action="backward" data-mode="backward">backward</button>
<button type="button" data-action="reset">reset</button>
<button type="button" data-action="previous">previous</button>
<button type="button" data-action="play">play</button>
<button type="button" data-action="next">next</button>
<input type="range" class="cr-slider" min="0" max="0" value="0" aria-label="step">
</div>
<div class="cr-status" aria-live="polite"></div>
<div class="cr-figure">
{svg}
<div class="cr-tip" hidden></div>
</div>
<table class="cr-grads" hidden><thead><tr><th>parent</th><th>grad before</th>
<th>grad after</th></tr></thead><tbody></tbody></table>
<script type="application/json" class="cr-data">{data}</script>
<script>{script}</script>
</div>"""

# No request can leave the page: everything it needs is inline, and the policy says so.
_DOCUMENT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>{title}</title>
</head>
<body>
{body}
</body>
</html>
"""


def _inline_svg(svg: str) -> str:
    """dot's SVG document as an element to put in HTML: no XML declaration or doctype."""
    start = svg.find("<svg")
    if start < 0:
        raise RuntimeError(f"Graphviz wrote no <svg> element: {svg[:200]!r}")
    return svg[start:].strip()


class StepThrough:
    """The step-through page of one Value's backward pass, as ``draw_html`` returns it.

    In Jupyter it shows inline (``_repr_html_``); ``save(path)`` writes it as a page of
    its own, and ``html`` is that page's text.
    """

    def __init__(self, body: str, title: str, values: int, steps: int) -> None:
        self._body = body
        self._title = title
        self.values = values  #: how many Values the graph has
        self.steps = steps  #: how many rules the backward pass runs

    @property
    def html(self) -> str:
        """The whole page: one HTML document with everything inline."""
        return _DOCUMENT.format(title=html.escape(self._title), body=self._body)

    def _repr_html_(self) -> str:
        return self._body

    def save(self, path: Union[str, "os.PathLike[str]"]) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path."""
        path = Path(path)
        path.write_text(self.html, encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return (
            f"<StepThrough: {self.values} Values, {self.steps} backward steps; "
            ".save(path) writes the page>"
        )


def draw_html(root: Value, *, timeout: Optional[float] = None, **draw_options: Any) -> StepThrough:
    """A page that steps through ``root``'s forward and backward pass in the browser.

    Draws ``draw(root, **draw_options)``, renders it to SVG with Graphviz's ``dot`` and
    records the backward pass with ``engine.recorded_sweep``: the gradients that
    ``root.backward()`` computes from zero, rule by rule, in the engine's order. Nothing
    in the graph changes (every ``.grad`` is put back). The page needs no network.

    Args:
        root: the Value whose graph and backward pass to show.
        timeout: seconds to let ``dot`` lay the graph out before giving up (default: no
            limit).
        **draw_options: passed to ``draw`` (``rankdir``, ``max_nodes``, ``parameters``,
            ...); ``digits`` also sets how the picture's changing gradients are printed.

    Returns:
        A ``StepThrough``: shown inline in Jupyter; ``.save(path)`` writes the page.

    Raises:
        TypeError: ``root`` is not a Value.
        ValueError: from ``draw``, for a bad option or a graph over ``max_nodes``.
        GraphvizNotFoundError: the ``dot`` program is missing (or the graphviz package:
            ``GraphvizPackageNotFoundError``).
        TimeoutError: ``dot`` ran longer than ``timeout`` seconds.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_html needs a Value, got {type(root).__name__}: {root!r:.80}")
    drawing = draw(root, **draw_options)
    svg = _inline_svg(_render(drawing, "svg", timeout).decode("utf-8"))
    digits = draw_options.get("digits", 4)
    data = _page_data(root, digits if type(digits) is int and digits > 0 else 4)
    data_text = _json_for_script(data)
    page_id = "chainrule-" + hashlib.sha256((svg + data_text).encode()).hexdigest()[:12]
    body = _BODY.format(
        id=page_id,
        style=_STYLE,
        svg=svg,
        data=data_text,
        script=_SCRIPT.replace("__ID__", page_id),
    )
    # The title is text too: control characters and lone surrogates shown as escapes.
    label = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in root.label[:80])
    title = f"backward pass of {label}" if label else "backward pass"
    return StepThrough(body, title, len(data["nodes"]), len(data["steps"]))
