"""draw() and save_graph(): DOT structure, colours, escaping, the size guard, rendering."""

import importlib
import re
import shutil
import time
import xml.etree.ElementTree as ElementTree

import graphviz
import pytest

import autograd
from autograd import Value, draw, save_graph

draw_module = importlib.import_module("autograd.draw")  # `autograd.draw` is the function
GraphvizNotFoundError = draw_module.GraphvizNotFoundError
COLOURS = draw_module.COLOURS

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs the graphviz dot program")

SVG_TEXT = "{http://www.w3.org/2000/svg}text"
HOSTILE = 'a|b{c}<d>"e\\ <script>alert(1)</script> &amp; &lt; &foo; x'


# -- helpers ---------------------------------------------------------------------------------


def nodes(source):
    """{node name: attribute text} for every node statement of a DOT source."""
    found = dict(re.findall(r"^\t+(\w+) \[(.*)\]$", source, flags=re.MULTILINE))
    return {name: attrs for name, attrs in found.items() if name not in ("graph", "node")}


def value_labels(source):
    """The record label of every Value node."""
    return [label_of(attrs) for name, attrs in nodes(source).items() if name.startswith("v")]


def edges(source):
    return re.findall(r"^\t(\w+) -> (\w+)(?: \[.*\])?$", source, flags=re.MULTILINE)


def label_of(attributes):
    quoted, bare = re.match(r'label=(?:"((?:[^"\\]|\\.)*)"|(\w+))', attributes).groups()
    return bare if quoted is None else quoted


def fill_of(attributes):
    return re.search(r'fillcolor="?([#\w]+)"?', attributes).group(1)


def svg_texts(svg):
    root = ElementTree.fromstring(svg)  # raises if the SVG is not well-formed XML
    # dot pads record fields with a space and writes runs of spaces as no-break spaces
    return [(e.text or "").replace("\xa0", " ").strip() for e in root.iter(SVG_TEXT)]


def neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    out = autograd.dot([w1, w2], [x1, x2], bias=b).tanh()
    out.label = "o"
    out.backward()
    return out, [w1, w2, b]


def chain(length):
    v = Value(1.0, label="x")
    for _ in range(length - 1):
        v = v * 1.0
    return v


# -- structure ------------------------------------------------------------------------------


def test_value_nodes_are_records_with_label_data_and_grad_to_four_significant_digits():
    x = Value(0.5, label="x")
    y = x * 2
    y.backward()
    found = set(value_labels(draw(y).source))
    assert "{ x | data 0.5 | grad 2 }" in found
    assert "{ data 1 | grad 1 }" in found  # no label part when there is none


def test_show_grad_false_leaves_out_the_grad_field():
    x = Value(0.25, label="x")
    source = draw(x.exp(), show_grad=False).source
    assert "{ x | data 0.25 }" in source
    assert "grad" not in source


def test_each_operation_is_its_own_node_named_with_its_number_operand():
    x = Value(3.0, label="x")
    y = ((x * 2) - 1).tanh() + (2 - x)
    source = draw(y, legend=False).source
    op_labels = sorted(label_of(a) for name, a in nodes(source).items() if name.startswith("op"))
    assert op_labels == sorted(["* 2", "- 1", "tanh", "2 -", "+"])


def test_edges_run_operand_to_op_node_to_result():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    source = draw(c, legend=False).source
    names = {label_of(attrs).split(" | ")[0].strip("{ "): n for n, attrs in nodes(source).items()}
    op = next(n for n in nodes(source) if n.startswith("op"))
    assert sorted(edges(source)) == sorted([(names["a"], op), (names["b"], op), (op, "v2")])


def test_an_operand_used_twice_by_one_operation_gets_two_edges():
    a = Value(3.0, label="a")
    source = draw(a + a, legend=False).source
    assert edges(source).count(("v0", "op1")) == 2


def test_a_value_shared_by_two_operations_is_drawn_once():
    a = Value(3.0, label="a")
    d = (a * 2) + (a.exp())  # a diamond
    source = draw(d, legend=False).source
    assert sum("{ a |" in label for label in value_labels(source)) == 1
    assert [src for src, _ in edges(source)].count("v0") == 2


def test_node_ids_follow_topological_order_parents_first():
    out, _ = neuron()
    source = draw(out, legend=False).source
    order = [int(name[1:]) for name in nodes(source) if name.startswith("v")]
    assert order == list(range(len(order)))
    for src, dst in edges(source):
        if dst.startswith("op"):
            assert int(src[1:]) < int(dst[2:])
        else:
            assert src == "op" + dst[1:]


def test_nary_dot_node_has_an_edge_from_every_operand():
    out, _ = neuron()
    source = draw(out, legend=False).source
    dot_op = next(n for n, a in nodes(source).items() if label_of(a) == "dot")
    assert sum(dst == dot_op for _, dst in edges(source)) == 5


def test_a_leaf_alone_draws_one_node_and_no_edges():
    source = draw(Value(1.5), legend=False).source
    assert list(nodes(source)) == ["v0"]
    assert edges(source) == []


def test_graph_attr_adds_graphviz_graph_attributes():
    source = draw(Value(1.0), graph_attr=draw_module.FAST_LAYOUT).source
    assert "graph [nslimit=0 nslimit1=0 rankdir=LR]" in source


def test_rankdir_is_passed_to_graphviz():
    assert "rankdir=TB" in draw(Value(1.0), rankdir="TB").source


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"rankdir": "sideways"}, ValueError),
        ({"max_nodes": 0}, ValueError),
        ({"max_nodes": 2.5}, ValueError),
        ({"max_nodes": True}, ValueError),
        ({"parameters": [1.0]}, TypeError),
    ],
)
def test_bad_arguments_are_refused(kwargs, error):
    with pytest.raises(error):
        draw(Value(1.0), **kwargs)


def test_draw_refuses_what_is_not_a_value():
    with pytest.raises(TypeError, match="needs a Value"):
        draw(1.0)


def test_draw_returns_a_graphviz_digraph():
    assert isinstance(draw(Value(1.0)), graphviz.Digraph)


# -- colours and legend ---------------------------------------------------------------------


def test_output_parameters_named_and_unnamed_leaves_get_distinct_colours():
    w, x, c = Value(2.0, label="w"), Value(3.0, label="x"), Value(4.0)
    hidden = w * x
    out = hidden + c
    drawn = nodes(draw(out, parameters=[w]).source)
    found = {label_of(a): fill_of(a) for n, a in drawn.items() if n.startswith("v")}
    by_text = {text.split(" | ")[0].strip("{ "): colour for text, colour in found.items()}
    assert by_text["w"] == COLOURS["parameter"]
    assert by_text["x"] == COLOURS["named leaf"]
    assert by_text["data 4"] == COLOURS["unnamed leaf"]
    assert by_text["data 6"] == "white"  # intermediate
    assert by_text["data 10"] == COLOURS["output"]
    assert len(set(COLOURS.values()) | {"white"}) == len(COLOURS) + 1


def test_without_parameters_a_named_leaf_is_green_not_blue():
    w = Value(2.0, label="w")
    source = draw(w * 3).source
    assert fill_of(nodes(source)["v0"]) == COLOURS["named leaf"]


def test_the_legend_lists_only_the_colours_in_the_drawing():
    x = Value(1.0, label="x")
    legend = nodes(draw(x * 2).source)["legend"]
    assert "output" in legend and "named leaf" in legend
    assert "parameter" not in legend and "unnamed leaf" not in legend


def test_legend_false_leaves_the_legend_out():
    assert "legend" not in draw(Value(1.0), legend=False).source


# -- determinism ----------------------------------------------------------------------------


def test_the_same_graph_gives_the_same_source_twice():
    out, _ = neuron()
    assert draw(out).source == draw(out).source


def test_building_the_same_expression_twice_gives_the_same_source():
    first, _ = neuron()
    second, _ = neuron()
    assert draw(first).source == draw(second).source


# -- escaping -------------------------------------------------------------------------------


def test_escape_handles_record_syntax_quotes_backslashes_and_newlines():
    escape = draw_module.escape
    assert escape('a|b{c}<d>"e\\') == 'a\\|b\\{c\\}\\<d\\>\\"e\\\\'
    assert escape("two  spaces") == "two\\ \\ spaces"
    assert escape("line\nbreak\r\nend") == "line\\nbreak\\nend"
    assert escape("&lt;") == "&amp;lt;"
    assert escape("bell\x07") == "bell\\\\x07"


def test_hostile_label_stays_inside_its_record_field_in_the_dot_source():
    x = Value(1.0, label=HOSTILE)
    label = label_of(nodes(draw(x, legend=False).source)["v0"])
    # three fields: the only unescaped | are the two separators added by draw
    assert len(re.findall(r"(?<!\\)(?:\\\\)*\|", label)) == 2
    assert label.endswith("| data 1 | grad 0 }")


@needs_dot
def test_hostile_label_renders_as_its_own_text_in_well_formed_svg():
    x = Value(1.0, label=HOSTILE)
    svg = draw(x * x).pipe(format="svg", encoding="utf-8")
    assert HOSTILE in svg_texts(svg)
    assert "<script>" not in svg  # escaped, so never an element


@needs_dot
def test_control_characters_and_newlines_give_well_formed_svg():
    x = Value(1.0, label="bell\x07 nul\x00 esc\x1b\nsecond line \ud800")
    svg = draw(x).pipe(format="svg", encoding="utf-8")
    texts = svg_texts(svg)
    assert any("bell\\x07" in t for t in texts)
    assert any("second" in t for t in texts)


@needs_dot
def test_hostile_op_names_are_escaped_too(monkeypatch):
    monkeypatch.setattr(draw_module, "op_label", lambda node: 'op"|<b>\\&amp;')
    x = Value(1.0, label="x")
    svg = draw(x.exp()).pipe(format="svg", encoding="utf-8")
    assert 'op"|<b>\\&amp;' in svg_texts(svg)


# -- size guard -----------------------------------------------------------------------------


def test_size_guard_refuses_a_30000_node_graph_quickly_naming_the_count_and_max_nodes():
    y = autograd.sum([Value(float(i)) for i in range(30_000)])
    start = time.perf_counter()
    with pytest.raises(ValueError) as refused:
        draw(y)
    assert time.perf_counter() - start < 0.05
    message = str(refused.value)
    assert "more than 500 Values (counting stopped at 501)" in message
    assert "max_nodes=500" in message and "max_nodes=None" in message


def test_size_guard_refuses_a_million_node_chain_without_recursion():
    v = chain(1_000_000)
    start = time.perf_counter()
    # counting stops at the first node over the limit instead of walking all of them
    with pytest.raises(ValueError, match=r"counting stopped at 501\).*max_nodes=500"):
        draw(v)
    assert time.perf_counter() - start < 0.05


def test_graph_of_exactly_max_nodes_is_drawn_and_one_more_is_refused():
    assert nodes(draw(chain(20), max_nodes=20, legend=False).source)
    with pytest.raises(ValueError, match="more than 20 Values"):
        draw(chain(21), max_nodes=20)


def test_max_nodes_none_draws_any_size():
    source = draw(chain(2_000), max_nodes=None, legend=False).source
    assert len([n for n in nodes(source) if n.startswith("v")]) == 2_000


# -- rendering and the missing dot program --------------------------------------------------


@needs_dot
def test_svg_output_parses_as_xml_and_shows_data_and_grad():
    out, _ = neuron()
    texts = svg_texts(draw(out).pipe(format="svg", encoding="utf-8"))
    assert "data 0.7071" in texts and "grad 1" in texts


@needs_dot
def test_notebook_display_gives_svg():
    bundle = draw(Value(1.0))._repr_mimebundle_()
    svg_texts(bundle["image/svg+xml"])


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """Hide every Graphviz program: PATH is an empty directory."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


def test_without_dot_the_source_still_works(no_dot):
    assert "data 1 " in draw(Value(1.0)).source


@pytest.mark.parametrize("render", ["pipe", "render", "save_graph"])
def test_without_dot_rendering_says_how_to_install_graphviz(no_dot, render, tmp_path):
    drawing = draw(Value(1.0))
    with pytest.raises(GraphvizNotFoundError) as caught:
        if render == "pipe":
            drawing.pipe(format="svg")
        elif render == "render":
            drawing.render(tmp_path / "graph", format="svg")
        else:
            save_graph(drawing, tmp_path / "graph.svg")
    message = str(caught.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert hint in message
    assert isinstance(caught.value, RuntimeError)
    assert isinstance(caught.value, graphviz.ExecutableNotFound)


def test_without_dot_a_notebook_shows_the_install_message_not_a_traceback(no_dot):
    bundle = draw(Value(1.0))._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "install" in bundle["text/plain"]


def test_without_dot_save_graph_writes_no_file(no_dot, tmp_path):
    with pytest.raises(GraphvizNotFoundError):
        save_graph(Value(1.0), tmp_path / "graph.png")
    assert list(tmp_path.iterdir()) == []


def test_without_dot_save_graph_still_writes_dot_text(no_dot, tmp_path):
    path = save_graph(Value(1.0), tmp_path / "graph.dot")
    assert path.read_text() == draw(Value(1.0)).source


# -- save_graph -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, check",
    [
        ("graph.svg", lambda data: svg_texts(data)),
        ("graph.SVG", lambda data: svg_texts(data)),
        ("graph.png", lambda data: data.startswith(b"\x89PNG\r\n\x1a\n") or 1 / 0),
        ("graph.pdf", lambda data: data.startswith(b"%PDF") or 1 / 0),
    ],
)
@needs_dot
def test_save_graph_writes_exactly_the_named_file_in_the_format_of_its_suffix(
    tmp_path, name, check
):
    out, _ = neuron()
    path = save_graph(out, tmp_path / name)
    assert path == tmp_path / name
    assert list(tmp_path.iterdir()) == [path]  # no stray .gv source beside it
    check(path.read_bytes())


@pytest.mark.parametrize("name", ["graph.dot", "graph.gv"])
def test_save_graph_writes_dot_text_for_dot_and_gv(tmp_path, name):
    out, _ = neuron()
    path = save_graph(out, tmp_path / name)
    assert path.read_text(encoding="utf-8") == draw(out).source


def test_save_graph_passes_draw_options_through(tmp_path):
    out, params = neuron()
    path = save_graph(out, tmp_path / "g.dot", show_grad=False, parameters=params)
    assert path.read_text() == draw(out, show_grad=False, parameters=params).source


def test_save_graph_accepts_a_drawing_but_not_options_with_it(tmp_path):
    drawing = draw(Value(1.0), rankdir="TB")
    assert "rankdir=TB" in save_graph(drawing, tmp_path / "g.gv").read_text()
    with pytest.raises(TypeError, match="drawn already"):
        save_graph(drawing, tmp_path / "g.gv", show_grad=False)


@pytest.mark.parametrize("name", ["graph.jpg", "graph", "graph.svg.txt"])
def test_save_graph_refuses_unknown_suffixes_listing_the_supported_ones(tmp_path, name):
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf, \.dot, \.gv"):
        save_graph(Value(1.0), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_save_graph_refuses_what_is_neither_a_value_nor_a_graph(tmp_path):
    with pytest.raises(TypeError, match="needs a Value or a graphviz graph"):
        save_graph("digraph {}", tmp_path / "g.dot")


@needs_dot
def test_save_graph_stops_graphviz_after_the_timeout_and_writes_nothing(tmp_path):
    # x reused at every step: long edges that take dot minutes to lay out
    x = Value(2.0, label="x")
    y = x
    for _ in range(300):
        y = y + x
    start = time.perf_counter()
    with pytest.raises(TimeoutError, match="longer than 0.5 s"):
        save_graph(y, tmp_path / "g.svg", timeout=0.5)
    assert time.perf_counter() - start < 5
    assert list(tmp_path.iterdir()) == []


def test_drawing_repr_has_no_memory_address_so_saved_notebooks_stay_stable():
    x = Value(1.5, label="x")
    first, second = repr(draw(x * 2)), repr(draw(x * 2))
    assert first == second and "0x" not in first


# -- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, shown",
    [
        (1.23456e-5, "1.235e-05"),
        (-0.39321, "-0.3932"),
        (12000.0, "1.2e+04"),
        (0.0, "0"),
        (-0.0, "0"),
        (0.5, "0.5"),
        (6.8813735870195432, "6.881"),
        (float("inf"), "inf"),
        (float("nan"), "nan"),
    ],
)
def test_numbers_show_four_significant_digits_and_zero_as_0(x, shown):
    assert draw_module.format_number(x) == shown


def test_a_vanishing_gradient_is_visible_not_rounded_to_zero():
    x = Value(1.0, label="x")
    y = x * 1e-5
    y.backward()
    assert "{ x | data 1 | grad 1e-05 }" in value_labels(draw(y).source)


def test_digits_sets_the_significant_digits():
    x = Value(2.0 / 3.0, label="x")
    assert "{ x | data 0.66666667 | grad 0 }" in value_labels(draw(x, digits=8).source)
    assert "{ x | data 0.7 | grad 0 }" in value_labels(draw(x, digits=1).source)


@pytest.mark.parametrize("digits", [0, 18, 2.5, True, "4"])
def test_bad_digits_are_refused(digits):
    with pytest.raises(ValueError, match="digits"):
        draw(Value(1.0), digits=digits)


# -- parameter names ------------------------------------------------------------------------


def test_parameters_may_be_a_dict_of_names_shown_in_the_records():
    w, b = Value(2.0), Value(0.5)
    out = w * 3 + b
    drawn = nodes(draw(out, parameters={"weight": w, "bias": b}).source)
    labels = {label_of(a): fill_of(a) for n, a in drawn.items() if n.startswith("v")}
    assert labels["{ weight | data 2 | grad 0 }"] == COLOURS["parameter"]
    assert labels["{ bias | data 0.5 | grad 0 }"] == COLOURS["parameter"]


def test_parameters_may_be_a_module_named_by_named_parameters():
    nn = pytest.importorskip("nn")
    neuron = nn.Neuron(2, activation="tanh")
    source = draw(neuron([1.0, 2.0]), parameters=neuron).source
    found = value_labels(source)
    assert any(label.startswith("{ w.0 |") for label in found)
    assert any(label.startswith("{ b |") for label in found)


def test_anything_with_named_parameters_counts_as_a_module():
    w = Value(1.5)

    class Model:  # not an nn.Module: autograd must not need nn
        def named_parameters(self):
            return [("layer.w", w)]

    assert "{ layer.w | data 1.5 | grad 0 }" in value_labels(draw(w * 2, parameters=Model()).source)


def test_a_values_own_label_wins_over_its_parameter_name():
    w = Value(2.0, label="my_w")
    assert "{ my_w | data 2 | grad 0 }" in value_labels(draw(w * 2, parameters={"w": w}).source)


@pytest.mark.parametrize("parameters", [Value(1.0), "w", {"w": 1.0}, {1: Value(1.0)}])
def test_parameters_that_are_not_values_with_string_names_are_refused(parameters):
    with pytest.raises(TypeError, match="parameter"):
        draw(Value(1.0), parameters=parameters)


# -- inside a dot: term labels and expand_dot ------------------------------------------------


def edge_statements(source):
    """(tail, head, attribute text) for every edge statement."""
    return re.findall(r"^\t(\w+) -> (\w+)(?: \[(.*)\])?$", source, flags=re.MULTILINE)


def test_edges_into_a_dot_carry_their_term_so_w1_pairs_with_x1():
    out, _ = neuron()
    source = draw(out, legend=False).source
    dot_op = next(n for n, a in nodes(source).items() if label_of(a) == "dot")
    names = {label_of(a).split(" | ")[0].strip("{ "): n for n, a in nodes(source).items()}
    terms = {
        tail: re.search(r"headlabel=(\w+)", attrs).group(1)
        for tail, head, attrs in edge_statements(source)
        if head == dot_op
    }
    assert {label: terms[names[label]] for label in ("w1", "w2", "x1", "x2", "b")} == {
        "w1": "w1", "w2": "w2", "x1": "x1", "x2": "x2", "b": "b"
    }


def test_edges_into_a_dot_over_numbers_carry_the_term_number():
    w1, w2, b = Value(1.0), Value(2.0), Value(3.0)
    source = draw(autograd.dot([w1, w2], [0.5, -1.5], b), legend=False).source
    labels = [re.search(r"headlabel=(\w+)", a).group(1) for _, _, a in edge_statements(source) if a]
    assert labels == ["1", "2", "b"]


def test_expand_dot_draws_each_product_with_its_data_and_the_dots_grad():
    out, _ = neuron()
    source = draw(out, expand_dot=True, legend=False).source
    drawn = nodes(source)
    terms = {label_of(a) for n, a in drawn.items() if re.fullmatch(r"term\d+_\d+", n)}
    # dot grad = 1 - tanh(0.8814)^2 = 0.5; w1*x1 = -3 * 2, w2*x2 = 1 * 0
    assert terms == {"{ w1*x1 | data -6 | grad 0.5 }", "{ w2*x2 | data 0 | grad 0.5 }"}
    term_ops = [label_of(a) for n, a in drawn.items() if n.startswith("termop")]
    assert term_ops == ["*", "*"]
    dot_index = next(n for n, a in nodes(draw(out).source).items() if label_of(a) == "dot")
    assert label_of(drawn[dot_index]) == "+"  # the dot's own op node is now the sum
    assert ("v4", dot_index) in edges(source)  # the bias goes straight into the sum


def test_expand_dot_keeps_every_value_node_and_its_name():
    out, _ = neuron()
    plain = {n: a for n, a in nodes(draw(out).source).items() if n.startswith("v")}
    expanded = {n: a for n, a in nodes(draw(out, expand_dot=True).source).items()
                if n.startswith("v")}  # fmt: skip
    assert plain == expanded


def test_expand_dot_over_numbers_and_a_number_bias_shows_them():
    w1, w2 = Value(2.0, label="w1"), Value(-1.0, label="w2")
    out = autograd.dot([w1, w2], [0.5, 4.0], 0.25)  # 1 - 4 + 0.25
    source = draw(out, expand_dot=True, legend=False).source
    drawn = nodes(source)
    assert {label_of(a) for n, a in drawn.items() if n.startswith("termop")} == {"* 0.5", "* 4"}
    assert "{ w2*4 | data -4 | grad 0 }" in {label_of(a) for a in drawn.values()}
    assert label_of(drawn["op2"]) == "+ 0.25"


def test_expand_dot_sums_the_products_to_exactly_the_dots_data():
    model, out = mlp_point(seed=1, sizes=(2, [16, 16, 1]))
    source = draw(out, expand_dot=True, max_nodes=None).source
    order = autograd.topological_order(out)
    dots = [f"op{i}" for i, v in enumerate(order) if v.op == "dot"]
    drawn = nodes(source)
    assert {label_of(drawn[name]) for name in dots} == {"+"}  # no leftover constant


def test_expand_dot_over_mixed_operands():
    w, x = Value(2.0, label="w"), Value(3.0, label="x")
    out = autograd.dot([w, 0.5], [-1.0, x], 1.0)  # DOT_MIXED: -2 + 1.5 + 1
    out.backward()
    drawn = nodes(draw(out, expand_dot=True, legend=False).source)
    labels = {label_of(a) for a in drawn.values()}
    assert {"{ w*-1 | data -2 | grad 1 }", "{ 0.5*x | data 1.5 | grad 1 }"} <= labels
    assert label_of(drawn["op2"]) == "+ 1"  # the number bias, kept only in the data


# -- groups: module calls inferred from the parameters ---------------------------------------


def clusters(source):
    """{cluster name: (label, every node declared inside it, nested clusters included)}."""
    found, stack = {}, []
    for line in source.splitlines():
        opened = re.match(r"\s*subgraph (cluster_\w+) \{", line)
        if opened:
            stack.append(opened.group(1))
            found[stack[-1]] = ["", set()]
            continue
        if line.strip() == "}" and stack:
            stack.pop()
            continue
        if stack:
            attributes = re.match(r'^\s+color=.*? label=(?:"((?:[^"\\]|\\.)*)"|(\S+))', line)
            if attributes:  # the cluster's own attributes
                found[stack[-1]][0] = attributes.group(1) or attributes.group(2)
            node = re.match(r"^\s+(\w+) \[", line)
            if node:
                for name in stack:
                    found[name][1].add(node.group(1))
    return {name: (label, members) for name, (label, members) in found.items()}


def mlp_point(seed=0, sizes=(2, [16, 16, 1])):
    nn = pytest.importorskip("nn")
    import random

    model = nn.MLP(*sizes, rng=random.Random(seed))
    out = model([0.5, -1.0])
    out.backward()
    return model, out


def test_group_draws_each_layer_and_neuron_call_in_a_labelled_cluster():
    model, out = mlp_point(sizes=(2, [3, 2, 1]))
    source = draw(out, parameters=model, group=True).source
    found = clusters(source)
    labels = sorted(label for label, _ in found.values())
    assert labels == sorted(["layers.0", "layers.1", "layers.2"]
                            + [f"neurons.{k}" for k in range(3)]
                            + [f"neurons.{k}" for k in range(2)])  # fmt: skip
    order = autograd.topological_order(out)
    index = {id(v): i for i, v in enumerate(order)}
    for layer_number, layer in enumerate(model.layers):
        (layer_members,) = [m for label, m in found.values() if label == f"layers.{layer_number}"]
        for k, unit in enumerate(layer.neurons):
            # the unit's dot node reads its weights; the activation (if any) follows it
            dots = [v for v in order if v.op == "dot" and unit.b in v.parents]
            assert len(dots) == 1
            names = {f"v{index[id(dots[0])]}", f"op{index[id(dots[0])]}"}
            assert names <= layer_members
            if len(layer.neurons) > 1:
                (unit_members,) = [
                    m for label, m in found.values()
                    if label == f"neurons.{k}" and names <= m
                ]  # fmt: skip
                assert len([n for n in unit_members if n.startswith("v")]) in (1, 2)


def test_group_hides_parameters_in_one_table_per_neuron_with_names_data_and_grads():
    model, out = mlp_point(sizes=(2, [3, 2, 1]))
    source = draw(out, parameters=model, group=True).source
    drawn = nodes(source)
    parameter_ids = {id(p) for p in model.parameters()}
    order = autograd.topological_order(out)
    shown = {f"v{i}" for i, v in enumerate(order) if id(v) in parameter_ids}
    assert not shown & set(drawn)  # no parameter drawn as a record of its own
    tables = {n: a for n, a in drawn.items() if n.startswith("params")}
    assert len(tables) == 3 + 2 + 1
    first = model.layers[0].neurons[0]
    table = tables["params0"]
    for name in ("w.0", "w.1", "b"):
        assert f"<td>{name}</td>" in table
    assert f"<td>{draw_module.format_number(first.w[1].data)}</td>" in table
    assert f"<td>{draw_module.format_number(first.w[1].grad)}</td>" in table


def test_group_numbers_rnn_time_steps_in_topological_order():
    nn = pytest.importorskip("nn")
    import random

    rnn = nn.RNN(2, 3, rng=random.Random(0))
    hs, h = rnn([[0.5, -1.0], [0.2, 0.3], [1.0, 0.0]])
    loss = autograd.sum(h)
    loss.backward()
    source = draw(loss, parameters=rnn, group=True).source
    found = clusters(source)
    assert sorted(label for label, _ in found.values()) == [
        "cell, call 0", "cell, call 1", "cell, call 2"
    ]
    order = autograd.topological_order(loss)
    index = {id(v): i for i, v in enumerate(order)}
    for t, step in enumerate(hs):
        (members,) = [m for label, m in found.values() if label == f"cell, call {t}"]
        assert {f"v{index[id(v)]}" for v in step} <= members  # each h_t in its step


def test_group_needs_named_parameters():
    out, params = neuron()
    for options in ({"group": True}, {"collapse": "layer"}):
        with pytest.raises(ValueError, match="named parameters"):
            draw(out, parameters=params, **options)
        with pytest.raises(ValueError, match="named parameters"):
            draw(out, **options)


def test_bad_collapse_is_refused():
    with pytest.raises(ValueError, match="collapse"):
        draw(Value(1.0), collapse="neurons")


def test_grouped_drawings_are_deterministic():
    (model_1, first), (model_2, second) = mlp_point(seed=3), mlp_point(seed=3)
    for options in ({"group": True}, {"collapse": "layer"}, {"collapse": "neuron"}):
        assert (
            draw(first, parameters=model_1, **options).source
            == draw(second, parameters=model_2, **options).source
        )


def box_cells(attributes):
    return re.findall(r"<td[^>]*>(?:<[bi]>)?([^<]*)", attributes)


def test_collapse_layer_draws_each_layer_call_as_one_box_with_its_outputs():
    model, out = mlp_point(sizes=(2, [3, 2, 1]))
    source = draw(out, parameters=model, collapse="layer").source
    drawn = nodes(source)
    boxes = {n: a for n, a in drawn.items() if n.startswith("box")}
    assert len(boxes) == 3
    cells = box_cells(boxes["box0"])
    assert cells[0] == "layers.0"
    assert cells[1:5] == ["", "neurons.0", "neurons.1", "neurons.2"]
    # the layer's outputs are its relu nodes, data then grad
    order = autograd.topological_order(out)
    relus = [v for v in order if v.op == "relu"][:3]
    fmt = draw_module.format_number
    assert cells[5:9] == ["data"] + [fmt(v.data) for v in relus]
    assert cells[9:13] == ["grad"] + [fmt(v.grad) for v in relus]
    # nothing of a collapsed call is drawn, and boxes chain layer to layer
    assert not [n for n in drawn if n.startswith(("v", "op", "params"))]
    assert ("box0", "box1") in edges(source) and ("box1", "box2") in edges(source)


def test_collapse_neuron_draws_each_neuron_call_as_a_box_inside_its_layer_with_group():
    model, out = mlp_point(sizes=(2, [3, 2, 1]))
    source = draw(out, parameters=model, collapse="neuron", group=True).source
    boxes = [n for n in nodes(source) if n.startswith("box")]
    assert len(boxes) == 3 + 2 + 1
    found = clusters(source)
    (layer0,) = [m for label, m in found.values() if label == "layers.0"]
    assert {"box0", "box1", "box2"} == layer0


def moons_loss(n):
    nn = pytest.importorskip("nn")
    import random

    model = nn.MLP(2, [16, 16, 1], rng=random.Random(0))
    X, y = nn.data.make_moons(n, seed=0)
    loss = nn.losses.hinge([model(x) for x in X], y)
    loss.backward()
    return model, loss


def test_collapse_draws_a_batch_that_max_nodes_refuses_uncollapsed():
    model, loss = moons_loss(8)  # 857 Values
    with pytest.raises(ValueError, match="more than 500 Values"):
        draw(loss, parameters=model)
    source = draw(loss, parameters=model, collapse="layer").source
    assert len([n for n in nodes(source) if n.startswith("box")]) == 8 * 3
    drawn = [n for n in nodes(source) if not n.startswith(("op", "legend"))]
    assert len(drawn) == 8 * 3 + 8 * 3 + 2  # and per point 3 loss values; a sum and a scale
    with pytest.raises(ValueError, match=r"would draw 50 boxes and values, over the limit"):
        draw(loss, parameters=model, collapse="layer", max_nodes=40)


@needs_dot
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_a_grouped_2_16_16_1_mlp_renders_within_4000_points_each_way(tmp_path, rankdir):
    model, out = mlp_point()
    # a generous timeout: a layout regression fails here instead of hanging the suite
    path = save_graph(
        out, tmp_path / "mlp.svg", parameters=model, group=True, rankdir=rankdir, timeout=60
    )
    svg = ElementTree.parse(path).getroot()
    width, height = (float(svg.get(side).removesuffix("pt")) for side in ("width", "height"))
    assert width <= 4000 and height <= 4000, (width, height)


HOSTILE_NAMES = {"w.0": 'a|b{c}<d>"e\\ <script>&amp;', "w.1": "x\ny'z"}


@needs_dot
@pytest.mark.parametrize("options", [{"group": True}, {"collapse": "neuron"}])
def test_hostile_parameter_names_in_tables_and_boxes_give_well_formed_svg(options):
    w0, w1, x = Value(1.0), Value(2.0), Value(3.0)
    out = autograd.dot([w0, w1], [x, x]).tanh()
    out.label = HOSTILE_NAMES["w.0"]
    module = HOSTILE_NAMES["w.0"]  # the module's name, from the parameters' names
    names = {f"{module}.w.0": w0, f"{module}.w.1": w1}
    w1.label = HOSTILE_NAMES["w.1"]
    svg = draw(out, parameters=names, **options).pipe(format="svg", encoding="utf-8")
    texts = svg_texts(svg)
    assert module in texts  # the cluster's label, or the box's title
    if options.get("group"):
        assert {"w.0", "x", "y'z"} <= set(texts)  # the table's names; y'z under a line break
    assert "<script>" not in svg


# -- long labels ----------------------------------------------------------------------------


def test_labels_over_200_characters_are_cut_with_an_ellipsis_and_kept_whole_in_the_tooltip():
    label = "abc" * 100
    x = Value(1.0, label=label)
    attributes = nodes(draw(x, legend=False).source)["v0"]
    assert label_of(attributes).startswith("{ " + label[:199] + "\u2026 |")
    assert f"tooltip={label}" in attributes  # quoted only when it needs to be
    short = nodes(draw(Value(1.0, label="a" * 200), legend=False).source)["v0"]
    assert "\u2026" not in short and "tooltip" not in short


@needs_dot
def test_a_label_of_100_kb_renders():
    x = Value(1.0, label="ab<&> " * 20_000)
    texts = svg_texts(draw(x * 2).pipe(format="svg", encoding="utf-8"))
    assert any(text.endswith("\u2026") for text in texts)
