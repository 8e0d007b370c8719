"""draw_html() and save_graph(root, "g.html"): one self-contained page whose numbers are
the engine's recorded sweep, with every user string escaped. (The page in a real browser:
test_html_browser.py.)"""

import html.parser
import json
import re
import shutil

import pytest

import autograd
from autograd import Value, draw_html, save_graph, topological_order
from autograd.draw import GraphvizNotFoundError
from autograd.engine import recorded_sweep

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs the graphviz dot program")

HOSTILE = '</script><script>alert(1)</script><!-- &amp; "x" \u2028 \ud800 <img src=x>'


def reused():
    """y = a*a + a*b, then tanh, plus a: a is used four times."""
    a, b = Value(0.75, label="a"), Value(-2.0, label="b")
    y = (a * a + a * b).tanh() + a
    y.label = "y"
    return y


class Parts(html.parser.HTMLParser):
    """Every tag of a page, and the text of each <script> (by its type)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.scripts, self._in_script = [], [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs).get("type", "text/javascript")
            self.scripts.append([self._in_script, ""])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            self.scripts[-1][1] += data


def page_data(page_html):
    (data,) = [text for kind, text in Parts(page_html).scripts if kind == "application/json"]
    return json.loads(data)


# -- the data: the recorded sweep, as text -------------------------------------------------


@needs_dot
def test_the_page_carries_the_recorded_sweep_as_repr_strings_in_topological_order():
    root = reused()
    data = page_data(draw_html(root).html)
    order = topological_order(root)
    index = {id(node): i for i, node in enumerate(order)}
    assert [n["label"] for n in data["nodes"]] == [node.label for node in order]
    assert [n["data"] for n in data["nodes"]] == [repr(node.data) for node in order]
    assert [n["op"] for n in data["nodes"]] == [node.op for node in order]
    steps = recorded_sweep(root)
    assert len(data["steps"]) == len(steps) == 5
    for shown, (node, parents, before, after) in zip(data["steps"], steps):
        assert shown["node"] == index[id(node)]
        assert shown["parents"] == [index[id(p)] for p in parents]
        assert shown["before"] == [repr(g) for g in before]
        assert shown["after"] == [repr(g) for g in after]
    assert data["seed"] == "1.0" and data["steps"][0]["grad"] == "1.0"
    assert data["short"]["-2.0"] == "-2" and data["short"]["0.0"] == "0"


@needs_dot
def test_the_page_shows_one_backward_pass_from_zero_and_leaves_every_grad_as_it_was():
    root = reused()
    root.backward()
    root.backward()
    held = [node.grad for node in topological_order(root)]
    data = page_data(draw_html(root).html)
    assert [node.grad for node in topological_order(root)] == held
    assert data == page_data(draw_html(reused()).html)  # as on a fresh graph


@needs_dot
def test_non_finite_numbers_are_carried_as_text():
    x = Value(float("inf"), label="x")
    data = page_data(draw_html(x * 0.0).html)  # inf * 0 = nan; its grad 0 * 1
    assert data["nodes"][0]["data"] == "inf" and data["nodes"][1]["data"] == "nan"
    assert data["short"]["nan"] == "nan"


@needs_dot
def test_a_leaf_gives_a_page_with_no_backward_steps():
    page = draw_html(Value(2.0, label="x"))
    assert page.steps == 0 and page.values == 1
    assert page_data(page.html)["steps"] == []


# -- self-contained and escaped -------------------------------------------------------------


@needs_dot
def test_the_page_is_self_contained_nothing_on_it_can_make_a_request():
    text = draw_html(reused()).html
    parts = Parts(text)
    # http appears only as XML namespace names, which are never fetched
    for url in re.findall(r"\S*https?://\S*", text):
        assert re.fullmatch(r'xmlns(:xlink)?="http://www\.w3\.org/[\w/.]+">?', url), url
    for tag, attrs in parts.tags:
        assert "src" not in attrs, tag
        assert attrs.get("href", "data:,").startswith("data:"), (tag, attrs)
    assert [tag for tag, _ in parts.tags].count("script") == 2
    assert [tag for tag, _ in parts.tags].count("svg") == 1
    code = "".join(text for kind, text in parts.scripts if kind != "application/json")
    for forbidden in ("fetch", "XMLHttpRequest", "import", "WebSocket", "innerHTML", "eval"):
        assert forbidden not in code
    assert "url(" not in text and "@import" not in text and "<?xml" not in text
    assert "default-src 'none'" in text  # and the browser is told so


@needs_dot
def test_hostile_labels_stay_text_in_the_data_the_svg_and_the_title(tmp_path):
    a = Value(1.0, label=HOSTILE)
    y = a * a
    y.label = HOSTILE
    text = draw_html(y).html
    parts = Parts(text)
    assert [kind for kind, _ in parts.scripts] == ["application/json", "text/javascript"]
    assert [n["label"] for n in page_data(text)["nodes"]] == [HOSTILE, HOSTILE]
    assert [tag for tag, _ in parts.tags].count("img") == 0
    assert [tag for tag, _ in parts.tags].count("script") == 2
    assert "<script>alert" not in text
    title = re.search("<title>(.*)</title>", text).group(1)
    assert title.startswith("backward pass of &lt;/script&gt;&lt;script&gt;alert(1)")
    assert "\\u2028" in title and "\\ud800" in title  # shown, not written raw
    (tmp_path / "hostile.html").write_text(text, encoding="utf-8")  # no lone surrogate


@needs_dot
def test_a_label_over_200_characters_is_whole_in_the_data_for_the_hover():
    a = Value(1.0, label="a" * 150 + "b" * 150)
    assert page_data(draw_html(a * 2.0).html)["nodes"][0]["label"] == "a" * 150 + "b" * 150


# -- the object, save_graph and errors ------------------------------------------------------


@needs_dot
def test_draw_html_shows_inline_saves_a_page_and_is_deterministic(tmp_path):
    page = draw_html(reused())
    assert repr(page) == "<StepThrough: 7 Values, 5 backward steps; .save(path) writes the page>"
    fragment = page._repr_html_()
    assert fragment.startswith('<div class="cr-page"') and "<html" not in fragment
    assert page.html.startswith("<!DOCTYPE html>") and fragment in page.html
    assert page.save(tmp_path / "p.html").read_text(encoding="utf-8") == page.html
    assert draw_html(reused()).html == page.html


@needs_dot
def test_save_graph_writes_the_page_for_an_html_suffix(tmp_path):
    written = save_graph(reused(), tmp_path / "graph.HTML", rankdir="TB")
    assert written == tmp_path / "graph.HTML"
    assert written.read_text(encoding="utf-8") == draw_html(reused(), rankdir="TB").html


def test_save_graph_of_a_drawing_to_html_is_refused_and_writes_nothing(tmp_path):
    with pytest.raises(TypeError, match="needs the Value"):
        save_graph(autograd.draw(reused()), tmp_path / "graph.html")
    assert not (tmp_path / "graph.html").exists()


def test_draw_html_refuses_what_is_not_a_value_and_passes_draw_errors_on():
    with pytest.raises(TypeError, match="draw_html needs a Value"):
        draw_html(1.0)
    with pytest.raises(ValueError, match="max_nodes"):
        draw_html(reused(), max_nodes=3)


def test_without_the_dot_program_draw_html_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        draw_html(reused())
    with pytest.raises(GraphvizNotFoundError):
        save_graph(reused(), tmp_path / "graph.html")
    assert not (tmp_path / "graph.html").exists()


@needs_dot
def test_the_cli_writes_the_page_for_an_html_output(tmp_path, capsys):
    from autograd.cli.main import main

    assert main(["x*x + x", "x=2", "-o", str(tmp_path / "g.html")]) == 0
    assert capsys.readouterr().out == "value = 6.0\nd/dx  = 5.0\n"
    data = page_data((tmp_path / "g.html").read_text(encoding="utf-8"))
    assert [n["label"] for n in data["nodes"]][0] == "x"
    assert data["steps"][-1]["after"] == ["5.0"]  # x*x's rule: 1 + 2*2
