"""microtorch.viz.draw_graph: the nodes and edges of small known graphs, the SVG (valid XML, one
group per node and edge), the layout (no overlaps, edges point right), the PNG, the size limit,
engine="dot" with and without graphviz, for scalar Values, microtorch Tensors and torch tensors."""

import os
import shutil
import stat
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import microtorch as mt
import microtorch.nn.functional as F
from makemore.model import ModelConfig, build_model
from microtorch.scalar import Value
from microtorch.viz import GraphDrawing, draw_graph

SVG = "{http://www.w3.org/2000/svg}"


def by_label(drawing: GraphDrawing) -> dict[str, object]:
    return {node.label: node for node in drawing.nodes}


def edge_multiset(drawing: GraphDrawing) -> list[tuple[str, str, int]]:
    """(input's label, consumer's label, times used) of every edge, sorted."""
    labels = {node.id: node.label for node in drawing.nodes}
    return sorted((labels[e.src], labels[e.dst], e.count) for e in drawing.edges)


def assert_layout_is_clean(drawing: GraphDrawing) -> None:
    """No two boxes overlap, every edge runs from its input's right side to its consumer's left
    side, and everything is inside the picture."""
    boxes, paths, width, height = drawing.laid_out()
    for i, a in enumerate(boxes):
        assert 0 <= a.x and a.x + a.w <= width and 0 <= a.y - a.h / 2 and a.y + a.h / 2 <= height
        for b in boxes[:i]:
            apart = a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h / 2 <= b.y - b.h / 2 or b.y + b.h / 2 <= a.y - a.h / 2
            assert apart, (a, b)
    for e, points in zip(drawing.edges, paths):
        src, dst = boxes[e.src], boxes[e.dst]
        if drawing.rankdir == "LR":  # from the right side's middle to the left side's middle
            assert points[0] == (src.x + src.w, src.y) and points[-1] == (dst.x, dst.y)
            along = [x for x, _ in points]
        else:  # from the bottom's middle to the top's middle
            assert points[0] == pytest.approx((src.x + src.w / 2, src.y + src.h / 2))
            assert points[-1] == pytest.approx((dst.x + dst.w / 2, dst.y - dst.h / 2))
            along = [y for _, y in points]
        assert along == sorted(along) and along[0] < along[-1]


# ---------------------------------------------------------------- scalar Values (micrograd's picture)


def lecture_expression():
    """micrograd's first example: L = (a * b + c) * f."""
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    L = (a * b + c) * f
    L.backward()
    return L, dict(a=a, b=b, c=c, f=f)


def test_value_graph_nodes_and_edges():
    L, params = lecture_expression()
    drawing = draw_graph(L, params=params)
    nodes = by_label(drawing)
    # four named leaves, two intermediate Values, the output, and an op node per Value made by an op
    assert sorted(node.kind for node in drawing.nodes) == ["op"] * 3 + ["output"] + ["param"] * 4 + ["value"] * 2
    assert nodes["a\ndata 2.0000\ngrad 6.0000"].kind == "param"
    assert nodes["b\ndata -3.0000\ngrad -4.0000"].kind == "param"
    assert nodes["data -8.0000\ngrad 1.0000"].kind == "output"
    assert drawing.output.label == "data -8.0000\ngrad 1.0000"
    ops = [node for node in drawing.nodes if node.kind == "op"]
    assert sorted(node.label for node in ops) == ["*", "*", "+"] and {node.shape for node in ops} == {"ellipse"}
    labels = {node.id: node.label for node in drawing.nodes}
    into = {}
    for e in drawing.edges:
        into.setdefault(labels[e.dst], []).append(labels[e.src])
    # every Value made by an op has exactly that op as its input; the op has the Value's inputs
    assert into["data -6.0000\ngrad -2.0000"] == ["*"]
    assert into["data 4.0000\ngrad -2.0000"] == ["+"]
    assert into["data -8.0000\ngrad 1.0000"] == ["*"]
    assert sorted(into["+"]) == ["c\ndata 10.0000\ngrad -2.0000", "data -6.0000\ngrad -2.0000"]
    assert len(drawing.edges) == 9
    assert_layout_is_clean(drawing)


def test_values_made_by_ops_can_be_labelled_as_in_the_lecture():
    L, params = lecture_expression()
    e = L._prev[0]._prev[0]  # a * b
    drawing = draw_graph(L, params={**params, "e": e, "L": L})
    kinds = {node.lines[0]: node.kind for node in drawing.nodes}
    assert kinds["e"] == "value" and kinds["L"] == "output" and kinds["a"] == "param"


def test_value_used_twice_is_one_edge_with_a_count_and_unnamed_leaves_are_leaves():
    x = Value(3.0)
    y = x * x + 1.0
    drawing = draw_graph(y)
    kinds = {node.label: node.kind for node in drawing.nodes}
    assert kinds["data 3.0000\ngrad 0.0000"] == "leaf" and kinds["data 1.0000\ngrad 0.0000"] == "leaf"
    counts = {(drawing.nodes[e.src].label, drawing.nodes[e.dst].label): e.count for e in drawing.edges}
    assert counts["data 3.0000\ngrad 0.0000", "*"] == 2
    assert ">×2</text>" in drawing.svg
    assert_layout_is_clean(drawing)


def test_a_lone_value_is_just_the_output():
    drawing = draw_graph(Value(1.5))
    assert [(n.kind, n.label) for n in drawing.nodes] == [("output", "data 1.5000\ngrad 0.0000")]
    assert drawing.edges == []
    ET.fromstring(drawing.svg)


# ---------------------------------------------------------------- the SVG and the PNG


def test_svg_is_xml_with_a_group_per_node_and_edge():
    L, params = lecture_expression()
    drawing = draw_graph(L, params=params)
    svg = drawing._repr_svg_()
    assert svg == drawing.svg
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    groups = list(root.iter(SVG + "g"))
    node_groups = [g for g in groups if g.get("class", "").startswith("node")]
    edge_groups = [g for g in groups if g.get("class") == "edge"]
    assert len(node_groups) == len(drawing.nodes) and len(edge_groups) == len(drawing.edges)
    for g, node in zip(node_groups, drawing.nodes):
        assert g.get("class") == f"node {node.kind}" and g.get("data-id") == str(node.id)
        assert g.find(SVG + "title").text == node.label
        assert [t.text for t in g.iter(SVG + "text")] == list(node.lines)
    assert {(int(g.get("data-src")), int(g.get("data-dst"))) for g in edge_groups} == {(e.src, e.dst) for e in drawing.edges}
    width, height = drawing.laid_out()[2:]
    assert root.get("width") == str(width) and root.get("viewBox") == f"0 0 {width} {height}"


def test_svg_escapes_text():
    a = Value(1.0)
    drawing = draw_graph(a * 2.0, params={"<a & b>": a})
    root = ET.fromstring(drawing.svg)
    assert "<a & b>" in [t.text for t in root.iter(SVG + "text")]


def test_save_svg_png_and_pdf(tmp_path):
    import matplotlib.image

    L, params = lecture_expression()
    drawing = draw_graph(L, params=params)
    assert drawing.save(tmp_path / "g.svg").read_text(encoding="utf-8") == drawing.svg
    png = drawing.save(tmp_path / "g.png", dpi=96)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(png)
    width, height = drawing.laid_out()[2:]
    assert abs(image.shape[1] - width) <= 1 and abs(image.shape[0] - height) <= 1  # 96 dpi: one pixel per SVG pixel
    assert image[..., :3].min() < 0.3 and image[..., :3].max() == 1.0  # ink on a white page
    assert drawing.save(tmp_path / "g.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(ValueError, match=r"'g.jpg'.*\.svg, \.png or \.pdf"):
        drawing.save(tmp_path / "g.jpg")


def test_save_png_leaves_pyplot_alone(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    draw_graph(lecture_expression()[0]).save(tmp_path / "g.png")
    assert plt.get_fignums() == before


# ---------------------------------------------------------------- microtorch Tensors


def test_microtorch_tensor_graph():
    x = mt.tensor([[1.0, 2.0, 3.0]])  # does not require grad: not in the graph, as in PyTorch
    w = mt.ones((3, 2), requires_grad=True)
    b = mt.zeros(2, requires_grad=True)
    loss = (x @ w + b).tanh().sum()
    drawing = draw_graph(loss, params={"w": w, "b": b})
    nodes = by_label(drawing)
    assert nodes["w\n(3, 2)"].kind == "param" and nodes["b\n(2,)"].kind == "param"
    assert drawing.output.label == "()"
    ops = [node for node in drawing.nodes if node.kind == "op"]
    assert len(ops) == 4 and all(node.lines[0].endswith(("Backward", "Backward0", "Backward1")) for node in ops)
    assert [node.lines[1] for node in ops] == ["()", "(1, 2)", "(1, 2)", "(1, 2)"]  # output first, then inputs
    assert len(drawing.nodes) == 7 and len(drawing.edges) == 6  # x is not drawn
    assert_layout_is_clean(drawing)
    loss.backward(retain_graph=True)  # the graph keeps its saved state: the same picture
    assert draw_graph(loss, params={"w": w, "b": b}).nodes == drawing.nodes


def test_microtorch_op_names_are_pytorchs():
    x = mt.ones((2, 3), requires_grad=True)
    y = (x.exp() * 2).sum()
    drawing = draw_graph(y, params={"x": x})
    assert [node.label for node in drawing.nodes] == [
        "()", "SumBackward0\n()", "MulBackward0\n(2, 3)", "ExpBackward0\n(2, 3)", "x\n(2, 3)"]


def test_a_leaf_tensor_is_just_the_output():
    w = mt.ones((2, 2), requires_grad=True)
    drawing = draw_graph(w, params={"w": w})
    assert [(n.kind, n.label) for n in drawing.nodes] == [("output", "w\n(2, 2)")] and drawing.edges == []


def test_makemore_batchnorm_mlp_for_one_example_fits_a_screen(tmp_path):
    model = build_model(ModelConfig(vocab_size=27), mt.Generator().manual_seed(1))
    model.eval()  # BatchNorm refuses a batch of one in train mode
    X, Y = mt.tensor([[0, 5, 13]]), mt.tensor([1])
    loss = F.cross_entropy(model(X), Y)
    params = dict(model.named_parameters())
    drawing = draw_graph(loss, params=params)
    assert draw_graph(loss, params=model.named_parameters()).nodes == drawing.nodes  # the pairs do too
    named = {node.lines[0] for node in drawing.nodes if node.kind == "param"}
    assert named == set(params)  # every parameter is drawn, by name
    assert not [node for node in drawing.nodes if node.kind == "leaf"]
    assert len(drawing.nodes) <= 40
    width, height = drawing.laid_out()[2:]
    assert width <= 2200 and height <= 600, (width, height)
    assert_layout_is_clean(drawing)
    assert drawing.save(tmp_path / "mlp.png").stat().st_size > 1000


# ---------------------------------------------------------------- torch tensors: the same walk as torchviz


def test_torch_tensor_graph():
    torch = pytest.importorskip("torch")
    x = torch.ones(4, 3, requires_grad=True)
    w = torch.ones(3, 2, requires_grad=True)
    b = torch.zeros(2, requires_grad=True)
    loss = torch.tanh(x @ w + b).pow(2).sum()
    drawing = draw_graph(loss, params={"w": w, "b": b})
    assert edge_multiset(drawing) == sorted((a, b, 1) for a, b in {
        ("SumBackward0\n()", "()"),
        ("PowBackward0\n(4, 2)", "SumBackward0\n()"),
        ("TanhBackward0\n(4, 2)", "PowBackward0\n(4, 2)"),
        ("AddBackward0\n(4, 2)", "TanhBackward0\n(4, 2)"),
        ("MmBackward0\n(4, 2)", "AddBackward0\n(4, 2)"),
        ("b\n(2,)", "AddBackward0\n(4, 2)"),
        ("(4, 3)", "MmBackward0\n(4, 2)"),
        ("w\n(3, 2)", "MmBackward0\n(4, 2)"),
    })
    kinds = {node.label: node.kind for node in drawing.nodes}
    assert kinds["(4, 3)"] == "leaf" and kinds["w\n(3, 2)"] == "param" and kinds["()"] == "output"
    assert_layout_is_clean(drawing)


def lecture_mlp_loss(lib):
    """The lecture's hand-written BatchNorm MLP (BatchNorm composed of ops), in torch or microtorch,
    on the same numbers; returns the loss and the parameters by name."""
    g = np.random.default_rng(0)
    C = lib.tensor(g.standard_normal((27, 10)), requires_grad=True)
    W1 = lib.tensor(g.standard_normal((30, 200)), requires_grad=True)
    bngain, bnbias = lib.ones((1, 200), requires_grad=True), lib.zeros((1, 200), requires_grad=True)
    W2 = lib.tensor(g.standard_normal((200, 27)), requires_grad=True)
    b2 = lib.zeros(27, requires_grad=True)
    X, Y = lib.tensor(g.integers(0, 27, (32, 3))), lib.tensor(g.integers(0, 27, (32,)))
    hpre = C[X].view(32, -1) @ W1
    hpre = bngain * (hpre - hpre.mean(0, keepdim=True)) / lib.sqrt(hpre.var(0, keepdim=True) + 1e-5) + bnbias
    logits = lib.tanh(hpre) @ W2 + b2
    loss = -logits.log_softmax(1)[lib.arange(32), Y].mean()
    return loss, dict(C=C, W1=W1, bngain=bngain, bnbias=bnbias, W2=W2, b2=b2)


# torch 2.13's graph of lecture_mlp_loss(torch), drawn by draw_graph: (input, consumer) labels.
LECTURE_MLP_EDGES = [
    ("AddBackward0\n(1, 200)", "SqrtBackward0\n(1, 200)"), ("AddBackward0\n(32, 200)", "TanhBackward0\n(32, 200)"),
    ("AddBackward0\n(32, 27)", "LogSoftmaxBackward0\n(32, 27)"), ("C\n(27, 10)", "IndexBackward0\n(32, 3, 10)"),
    ("DivBackward0\n(32, 200)", "AddBackward0\n(32, 200)"), ("IndexBackward0\n(32, 3, 10)", "ViewBackward0\n(32, 30)"),
    ("IndexBackward0\n(32,)", "MeanBackward0\n()"), ("LogSoftmaxBackward0\n(32, 27)", "IndexBackward0\n(32,)"),
    ("MeanBackward0\n()", "NegBackward0\n()"), ("MeanBackward1\n(1, 200)", "SubBackward0\n(32, 200)"),
    ("MmBackward0\n(32, 200)", "MeanBackward1\n(1, 200)"), ("MmBackward0\n(32, 200)", "SubBackward0\n(32, 200)"),
    ("MmBackward0\n(32, 200)", "VarBackward0\n(1, 200)"), ("MmBackward0\n(32, 27)", "AddBackward0\n(32, 27)"),
    ("MulBackward0\n(32, 200)", "DivBackward0\n(32, 200)"), ("NegBackward0\n()", "()"),
    ("SqrtBackward0\n(1, 200)", "DivBackward0\n(32, 200)"), ("SubBackward0\n(32, 200)", "MulBackward0\n(32, 200)"),
    ("TanhBackward0\n(32, 200)", "MmBackward0\n(32, 27)"), ("VarBackward0\n(1, 200)", "AddBackward0\n(1, 200)"),
    ("ViewBackward0\n(32, 30)", "MmBackward0\n(32, 200)"), ("W1\n(30, 200)", "MmBackward0\n(32, 200)"),
    ("W2\n(200, 27)", "MmBackward0\n(32, 27)"), ("b2\n(27,)", "AddBackward0\n(32, 27)"),
    ("bnbias\n(1, 200)", "AddBackward0\n(32, 200)"), ("bngain\n(1, 200)", "MulBackward0\n(32, 200)"),
]


def test_microtorch_lecture_mlp_graph_is_pytorchs():
    """About 25 nodes: the lecture's step fits one screen, and microtorch records PyTorch's graph."""
    loss, params = lecture_mlp_loss(mt)
    drawing = draw_graph(loss, params=params)
    assert edge_multiset(drawing) == sorted((a, b, 1) for a, b in LECTURE_MLP_EDGES)
    assert len(drawing.nodes) == 25
    assert {node.lines[0] for node in drawing.nodes if node.kind == "param"} == set(params)
    width, height = drawing.laid_out()[2:]
    assert width <= 2200 and height <= 600, (width, height)
    assert_layout_is_clean(drawing)


def test_top_to_bottom_is_the_transposed_layout():
    loss, params = lecture_mlp_loss(mt)
    lr, tb = draw_graph(loss, params=params), draw_graph(loss, params=params, rankdir="TB")
    assert tb.nodes == lr.nodes and tb.edges == lr.edges and tb.rankdir == "TB"
    width, height = tb.laid_out()[2:]
    assert height > 3 * width and width <= 600  # a deep graph: tall and narrow
    assert_layout_is_clean(tb)
    boxes = tb.laid_out()[0]
    out = boxes[tb.output.id]
    assert all(b.y <= out.y for b in boxes)  # the output at the bottom
    root = ET.fromstring(tb.svg)
    assert root.get("viewBox") == f"0 0 {width} {height}"


def test_torch_lecture_mlp_graph_is_the_same_drawing():
    torch = pytest.importorskip("torch")
    ours, theirs = draw_graph(*lecture_mlp_loss(mt)), draw_graph(*lecture_mlp_loss(torch))
    assert edge_multiset(ours) == edge_multiset(theirs)
    assert sorted(node.label for node in ours.nodes) == sorted(node.label for node in theirs.nodes)
    assert_layout_is_clean(theirs)


# ---------------------------------------------------------------- limits, engines, errors


def test_more_than_max_nodes_refuses_with_a_clear_message():
    v = Value(0.5)
    for _ in range(200):  # 200 Values made by ops, 200 op nodes
        v = v * 1.0
    with pytest.raises(ValueError, match=r"more than max_nodes=300 nodes.*draw a smaller piece.*larger max_nodes"):
        draw_graph(v)
    drawing = draw_graph(v, max_nodes=1000)
    assert len(drawing.nodes) == 1 + 200 * 3
    with pytest.raises(ValueError, match="max_nodes=10"):
        draw_graph(v, max_nodes=10)


def test_a_long_chain_lays_out_in_a_straight_line():
    v = Value(0.5)
    for _ in range(40):
        v = v.tanh()
    drawing = draw_graph(v)
    boxes = drawing.laid_out()[0]
    assert max(b.y for b in boxes) - min(b.y for b in boxes) < 1e-6
    assert_layout_is_clean(drawing)


def test_wrong_arguments():
    with pytest.raises(TypeError, match="draw_graph expects a Tensor or a scalar.Value, not list"):
        draw_graph([1.0])
    with pytest.raises(ValueError, match="rankdir must be 'LR' or 'TB', not 'RL'"):
        draw_graph(Value(1.0), rankdir="RL")
    with pytest.raises(ValueError, match="engine must be 'builtin' or 'dot', not 'neato'"):
        draw_graph(Value(1.0), engine="neato")


def test_engine_dot_without_graphviz_says_so_and_draws(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot
    L, params = lecture_expression()
    with pytest.warns(UserWarning, match=r"^engine='dot': graphviz's dot program is not on PATH; drawing with the built-in layout$"):
        drawing = draw_graph(L, params=params, engine="dot")
    assert drawing.engine == "builtin"
    assert ET.fromstring(drawing.svg).tag == SVG + "svg"


def test_engine_dot_hands_the_nodes_and_edges_to_dot(monkeypatch, tmp_path):
    """A stand-in dot on PATH records the DOT text it is given and prints an SVG."""
    script = tmp_path / "dot"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys, pathlib\n"
        f"pathlib.Path({str(tmp_path / 'input.dot')!r}).write_text(sys.stdin.read())\n"
        "sys.stdout.write('<svg xmlns=\"http://www.w3.org/2000/svg\">' + sys.argv[1] + '</svg>')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    L, params = lecture_expression()
    drawing = draw_graph(L, params=params, engine="dot", rankdir="TB")
    assert drawing.engine == "dot"
    assert drawing.svg == '<svg xmlns="http://www.w3.org/2000/svg">-Tsvg</svg>'
    source = (tmp_path / "input.dot").read_text()
    assert source.startswith("digraph {") and "rankdir=TB;" in source
    assert source.count(" -> ") == len(drawing.edges) and source.count("[label=") == len(drawing.nodes)
    assert 'label="a\\ndata 2.0000\\ngrad 6.0000", shape=box' in source
    assert drawing.save(tmp_path / "g.png").read_bytes() == b'<svg xmlns="http://www.w3.org/2000/svg">-Tpng</svg>'


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
def test_engine_dot_with_graphviz(tmp_path):
    L, params = lecture_expression()
    drawing = draw_graph(L, params=params, engine="dot")
    root = ET.fromstring(drawing.svg)
    titles = [t.text for t in root.iter(SVG + "title")]
    assert {f"n{node.id}" for node in drawing.nodes} <= set(titles)
    assert drawing.save(tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
