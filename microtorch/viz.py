"""Pictures of a computation graph, with no system binary.

    from microtorch.viz import draw_graph
    draw_graph(loss, params=dict(model.named_parameters()))      # a Tensor's backward graph
    draw_graph(out)                                              # a scalar.Value's expression graph
    draw_graph(loss).save("graph.png")                           # or .svg

A Tensor's graph is read through PyTorch's public graph API, as torchviz reads it: `t.grad_fn`,
`fn.name()`, `fn.next_functions` (pairs of (node or None, index)) down to the `AccumulateGrad`
nodes, whose `.variable` is the leaf. So a torch tensor is drawn too. Each op box shows the node's
name and the shape of the op's output; leaves are blue (parameters named when `params` names
them), the output is green. A `scalar.Value` is drawn as micrograd's `draw_dot` does: a box per
Value with its data and grad, and a round node for the op that made it.

The layout is layered, left to right, from the leaves to the output: each node is one column
left of its leftmost consumer (so a parameter sits just before the op that uses it), the order
within a column is chosen to cross few edges (barycentre sweeps), and the rows are placed to keep
the main path level and the edges straight (least squares under the columns' order). The SVG is written here; the PNG is the same drawing made with matplotlib.
`engine="dot"` hands the same nodes and edges to graphviz's `dot` program instead, when it is on
PATH; when it is not, a one-line warning says so and the built-in layout draws the picture.
"""
from __future__ import annotations

import math
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping
from xml.sax.saxutils import escape

__all__ = ["draw_graph", "GraphDrawing", "Node", "Edge"]

MAX_NODES = 300

# Colours as torchviz and micrograd's draw_dot use them.
_FILL = {
    "op": "#e3e3e3",  # an op (a backward node)
    "leaf": "#cfe6f7",  # a leaf that requires grad, not named by `params`
    "param": "#a9d3f5",  # a named parameter
    "output": "#caff70",  # the root
    "value": "#ffffff",  # a scalar Value made by an op
}
_FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_FONT_PX = 12
_CHAR_PX = 0.6 * _FONT_PX  # a monospace character's advance
_LINE_PX = 15
_PAD_X, _PAD_Y = 6, 5
_COLUMN_GAP = 28  # between columns: room for the edges' curves
_ROW_GAP = 12  # between boxes in a column
_LANE_PX = 6  # height of an edge passing through a column
_MARGIN = 10


@dataclass(frozen=True)
class Node:
    """One box of the picture: kind is "op", "leaf", "param", "output" or "value"."""

    id: int
    kind: str
    lines: tuple[str, ...]
    shape: str = "box"  # "box" or "ellipse" (a Value's op)

    @property
    def label(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class Edge:
    """An arrow from an input to the node that uses it (the forward direction)."""

    src: int
    dst: int
    count: int = 1  # the same input used more than once (x * x)


# ============================================================== reading the graph


class _Builder:
    """Collects nodes and edges, keyed by a Python object kept alive until the drawing is built
    (torch makes its graph nodes' Python objects on demand: an id is unique only while they live)."""

    def __init__(self, max_nodes: int) -> None:
        self.max_nodes = max_nodes
        self.ids: dict[int, int] = {}
        self.keep: list[object] = []
        self.nodes: list[Node] = []
        self.edges: dict[tuple[int, int], int] = {}

    def node(self, key: object, kind: str, lines: Iterable[str], shape: str = "box") -> int:
        i = len(self.nodes)
        if i == self.max_nodes:
            raise ValueError(
                f"the graph has more than max_nodes={self.max_nodes} nodes, too many to read in one picture; "
                f"draw a smaller piece (one example, one layer, a smaller model) or pass a larger max_nodes"
            )
        self.ids[id(key)] = i
        self.keep.append(key)
        self.nodes.append(Node(i, kind, tuple(lines), shape))
        return i

    def edge(self, src: int, dst: int) -> None:
        self.edges[src, dst] = self.edges.get((src, dst), 0) + 1

    def finish(self) -> tuple[list[Node], list[Edge]]:
        edges = [Edge(s, d, n) for (s, d), n in self.edges.items()]
        self.keep.clear()
        return self.nodes, edges


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _names(params) -> dict[int, str]:
    """id of each named tensor or Value -> its name; params is a mapping or (name, value) pairs."""
    return {id(v): k for k, v in dict(params or {}).items()}


def _op_shape(fn) -> str | None:
    """The shape of an op's output, where the graph node tells it: one shape per output, as
    PyTorch's node input metadata (the gradient each node receives) gives it."""
    meta = getattr(fn, "_input_metadata", None)
    if meta is not None and len(meta) == 1:
        try:
            return _shape_text(meta[0].shape)
        except (AttributeError, TypeError):
            return None
    return None


def _tensor_graph(root, params, max_nodes: int) -> tuple[list[Node], list[Edge]]:
    """torchviz's walk: from root.grad_fn along next_functions to the AccumulateGrad leaves."""
    names = _names(params)
    b = _Builder(max_nodes)
    fn = root.grad_fn
    out_lines = [names[id(root)]] if id(root) in names else []
    out = b.node(("output", root), "output", out_lines + [_shape_text(root.shape)])
    if fn is None:
        return b.finish()
    if _op_shape(fn):  # the nodes tell their outputs' shapes (PyTorch's)
        shapes = {}
    else:
        shapes = _replayed_shapes(fn, root.shape, getattr(getattr(root, "_array", None), "dtype", "float64"))
    first = _tensor_fn_node(b, fn, names, shapes)
    b.edge(first, out)
    stack = [fn]
    while stack:
        fn = stack.pop()
        dst = b.ids[id(fn)]
        for nxt, _ in fn.next_functions:
            if nxt is None:
                continue
            if id(nxt) not in b.ids:
                _tensor_fn_node(b, nxt, names, shapes)
                stack.append(nxt)
            b.edge(b.ids[id(nxt)], dst)
    return b.finish()


def _tensor_fn_node(b: _Builder, fn, names: dict[int, str], shapes: dict[int, tuple]) -> int:
    variable = getattr(fn, "variable", None)
    if variable is not None:  # AccumulateGrad: the leaf itself
        name = names.get(id(variable))
        lines = ([name] if name else []) + [_shape_text(variable.shape)]
        return b.node(fn, "param" if name else "leaf", lines)
    shape = _op_shape(fn) or (_shape_text(shapes[id(fn)]) if id(fn) in shapes else None)
    return b.node(fn, "op", [fn.name()] + ([shape] if shape else []))


# -- microtorch's nodes do not keep their output's shape; their backward closures tell it


def _replayed_shapes(root_fn, shape: tuple, dtype) -> dict[int, tuple]:
    """id(node) -> the shape of its op's output, for nodes that do not tell it (microtorch's):
    each op's backward closure (pure: gradient in, input gradients out) runs once on a zero
    gradient of its output's shape, and the gradients it returns have its inputs' shapes. Needs
    the graph's saved state: before backward, or after backward(retain_graph=True)."""
    import numpy as np

    shapes = {id(root_fn): tuple(shape)}
    todo = [root_fn]
    with np.errstate(all="ignore"):
        while todo:
            fn = todo.pop()
            backward = getattr(fn, "_backward", None)
            if not callable(backward):
                continue
            try:
                grads = backward(np.zeros(shapes[id(fn)], dtype=dtype))
            except Exception:  # noqa: BLE001  (a picture without this shape, not an error)
                continue
            for (nxt, _), g in zip(fn.next_functions, grads):
                if nxt is not None and g is not None and id(nxt) not in shapes and not hasattr(nxt, "variable"):
                    shapes[id(nxt)] = tuple(np.shape(g))
                    todo.append(nxt)
    return shapes


def _value_graph(root, params, max_nodes: int) -> tuple[list[Node], list[Edge]]:
    """micrograd's draw_dot: a box per Value (data, grad), a round node per op."""
    names = _names(params)
    b = _Builder(max_nodes)

    def visit(v) -> int:
        if id(v) not in b.ids:
            name = names.get(id(v))
            # named leaves are the parameters; a named Value made by an op is just labelled
            kind = "output" if v is root else "value" if v._prev else "param" if name else "leaf"
            lines = ([name] if name else []) + [f"data {v.data:.4f}", f"grad {v.grad:.4f}"]
            b.node(v, kind, lines)
            if v._prev:
                stack.append(v)
        return b.ids[id(v)]

    stack: list = []
    visit(root)
    while stack:
        v = stack.pop()
        op = b.node(("op", v), "op", [v._op or "?"], shape="ellipse")
        b.edge(op, b.ids[id(v)])
        for child in v._prev:
            b.edge(visit(child), op)
    return b.finish()


# ============================================================== layout


@dataclass
class _Box:
    x: float
    y: float  # centre
    w: float
    h: float


def _size(node: Node) -> tuple[float, float]:
    w = max(len(line) for line in node.lines) * _CHAR_PX + 2 * _PAD_X
    h = len(node.lines) * _LINE_PX + 2 * _PAD_Y
    if node.shape == "ellipse":
        w, h = max(w + 10, 34), max(h, 28)
    return w, h


def _columns(n: int, edges: list[Edge]) -> list[int]:
    """Each node's column: the output's is the last; every other node is one column left of its
    farthest-left consumer (longest path to the output), so every edge points right."""
    consumers: list[list[int]] = [[] for _ in range(n)]
    inputs: list[list[int]] = [[] for _ in range(n)]
    for e in edges:
        consumers[e.src].append(e.dst)
        inputs[e.dst].append(e.src)
    # Kahn's order from the sinks back to the sources: a node is ranked once all its consumers are.
    pending = [len(c) for c in consumers]
    depth = [0] * n
    ready = [i for i in range(n) if pending[i] == 0]
    while ready:
        i = ready.pop()
        for j in inputs[i]:
            depth[j] = max(depth[j], depth[i] + 1)
            pending[j] -= 1
            if pending[j] == 0:
                ready.append(j)
    last = max(depth, default=0)
    return [last - d for d in depth]


def _isotonic(targets: list[float], weights: list[float]) -> list[float]:
    """The non-decreasing sequence nearest to targets (weighted least squares): pool adjacent
    violators."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for t, w in zip(targets, weights):
        blocks.append([t, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out: list[float] = []
    for m, _, c in blocks:
        out.extend([m] * c)
    return out


def _crossings(layers: list[list[int]], succ: list[list[int]], pos: dict[int, int]) -> int:
    total = 0
    for layer in layers[:-1]:
        ends = [(pos[u], pos[v]) for u in layer for v in succ[u]]
        ends.sort()
        total += sum(1 for a in range(len(ends)) for b in range(a) if ends[b][1] > ends[a][1])
    return total


def _order(layers: list[list[int]], pred: list[list[int]], succ: list[list[int]]) -> list[list[int]]:
    """The order of the nodes within each column: barycentre sweeps both ways, keeping the
    order with the fewest crossings."""
    pos = {v: k for layer in layers for k, v in enumerate(layer)}
    best, best_x = [list(layer) for layer in layers], _crossings(layers, succ, pos)
    for sweep in range(12):
        forward = sweep % 2 == 0
        order = range(1, len(layers)) if forward else range(len(layers) - 2, -1, -1)
        for c in order:
            nbrs = pred if forward else succ
            def key(v: int) -> float:
                ps = [pos[u] for u in nbrs[v]]
                return sum(ps) / len(ps) if ps else pos[v]
            layers[c].sort(key=key)
            for k, v in enumerate(layers[c]):
                pos[v] = k
        x = _crossings(layers, succ, pos)
        if x < best_x:
            best, best_x = [list(layer) for layer in layers], x
    layers = best
    pos = {v: k for layer in layers for k, v in enumerate(layer)}
    # Leaves that feed the same ops as a node of the main path go half above it, half below
    # (crossings unchanged: a leaf has no edge on its left).
    odd_groups = 0
    for c, layer in enumerate(layers):
        new: list[int] = []
        k = 0
        while k < len(layer):
            same = tuple(sorted(pos[u] for u in succ[layer[k]]))
            j = k
            while j < len(layer) and tuple(sorted(pos[u] for u in succ[layer[j]])) == same:
                j += 1
            group = layer[k:j]
            sources = [v for v in group if not pred[v]]
            half = len(sources) // 2
            if len(sources) % 2 and odd_groups % 2:  # an odd one out: above and below in turn
                half += 1
            odd_groups += len(sources) % 2
            new += sources[:half] + [v for v in group if pred[v]] + sources[half:]
            k = j
        layers[c] = new
        for k, v in enumerate(new):
            pos[v] = k
    return layers


def _rows(layers: list[list[int]], sizes: list[tuple[float, float]], pred: list[list[int]],
          succ: list[list[int]], n: int) -> list[float]:
    """Every node's centre across the columns (nodes from n on are the long edges' points):
    start stacked, then move each column towards its neighbours' mean, sweeping both ways;
    isotonic regression keeps each column's order and gaps."""
    y = [0.0] * len(sizes)
    is_source = [not p for p in pred]
    def gap(u: int, v: int) -> float:
        pad = _ROW_GAP if (u < n and v < n) else _ROW_GAP / 2
        return (sizes[u][1] + sizes[v][1]) / 2 + pad
    offsets: list[list[float]] = []
    for layer in layers:
        off = [0.0]
        for u, v in zip(layer, layer[1:]):
            off.append(off[-1] + gap(u, v))
        offsets.append(off)
        for v, o in zip(layer, off):
            y[v] = o - off[-1] / 2
    for sweep in range(16):
        order = range(len(layers)) if sweep % 2 == 0 else range(len(layers) - 1, -1, -1)
        for c in order:
            layer, off = layers[c], offsets[c]
            targets, weights = [], []
            for v, o in zip(layer, off):
                # A source (a leaf) pulls its consumer less than the chain of ops does, so
                # the main path stays level and the leaves gather round it.
                nb = [(u, 0.05 if is_source[u] else 1.0) for u in pred[v]] + [(u, 1.0) for u in succ[v]]
                total = sum(w for _, w in nb)
                t = sum(y[u] * w for u, w in nb) / total if nb else y[v]
                targets.append(t - o)
                # a leaf gives way to the ops, and the ops to the long edges passing through
                weights.append(0.1 if is_source[v] else 1.0 if v < n else 2.0)
            z = _isotonic(targets, weights)
            for v, zz, o in zip(layer, z, off):
                y[v] = zz + o
    return y


def _layout(nodes: list[Node], edges: list[Edge], rankdir: str = "LR"):
    """Positions of every box, the path of every edge, and the picture's size. The layout is
    made left to right; top to bottom (rankdir "TB") is the same made on the boxes' transposed
    sizes, then transposed."""
    n = len(nodes)
    col = _columns(n, edges)
    sizes = [_size(node)[:: -1 if rankdir == "TB" else 1] for node in nodes]
    # Long edges pass through one dummy point per column they cross, so the ordering and the
    # placement keep them clear of the boxes.
    succ: list[list[int]] = [[] for _ in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    chains: list[list[int]] = []
    for e in edges:
        chain = [e.src]
        for c in range(col[e.src] + 1, col[e.dst]):
            col.append(c)
            sizes.append((0.0, _LANE_PX))
            succ.append([])
            pred.append([])
            chain.append(len(col) - 1)
        chain.append(e.dst)
        for u, v in zip(chain, chain[1:]):
            succ[u].append(v)
            pred[v].append(u)
        chains.append(chain)
    n_all = len(col)
    layers: list[list[int]] = [[] for _ in range(max(col, default=0) + 1)]
    for i in range(n_all):  # discovery order: the walk from the output
        layers[col[i]].append(i)

    layers = _order(layers, pred, succ)
    y = _rows(layers, sizes, pred, succ, n)

    widths = [max((sizes[v][0] for v in layer), default=0.0) for layer in layers]
    lefts, x = [], _MARGIN
    for w in widths:
        lefts.append(x)
        x += w + _COLUMN_GAP
    width = x - _COLUMN_GAP + _MARGIN
    top = min((y[v] - sizes[v][1] / 2 for v in range(n_all)), default=0.0)
    bottom = max((y[v] + sizes[v][1] / 2 for v in range(n_all)), default=0.0)
    shift = _MARGIN - top
    height = bottom - top + 2 * _MARGIN
    boxes = []
    for v in range(n):
        c = col[v]
        w, h = sizes[v]
        boxes.append(_Box(lefts[c] + (widths[c] - w) / 2, y[v] + shift, w, h))
    paths = []
    for e, chain in zip(edges, chains):
        s, d = boxes[e.src], boxes[e.dst]
        points = [(s.x + s.w, s.y)]
        for v in chain[1:-1]:
            c = col[v]
            points += [(lefts[c], y[v] + shift), (lefts[c] + widths[c], y[v] + shift)]
        points.append((d.x, d.y))
        paths.append(points)
    if rankdir == "TB":
        boxes = [_Box(b.y - b.h / 2, b.x + b.w / 2, b.h, b.w) for b in boxes]
        paths = [[(y, x) for x, y in points] for points in paths]
        width, height = height, width
    return boxes, paths, math.ceil(width), math.ceil(height)


def _curve(points: list[tuple[float, float]], rankdir: str) -> list[tuple[float, ...]]:
    """Cubic segments through points: each leaves and arrives along the layers' direction."""
    segments = []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if rankdir == "TB":
            dy = (y1 - y0) / 2
            segments.append((x0, y0 + dy, x1, y1 - dy, x1, y1))
        else:
            dx = (x1 - x0) / 2
            segments.append((x0 + dx, y0, x1 - dx, y1, x1, y1))
    return segments


# ============================================================== drawing


class GraphDrawing:
    """A drawn graph: shows itself in Jupyter (`_repr_svg_`), saves to .svg and .png (`save`).

    `nodes` and `edges` list what is drawn; `svg` is the picture's SVG text; `engine` says which
    layout drew it ("builtin" or "dot")."""

    def __init__(self, nodes: list[Node], edges: list[Edge], engine: str = "builtin", rankdir: str = "LR") -> None:
        self.nodes = nodes
        self.edges = edges
        self.engine = engine
        self.rankdir = rankdir
        self._layout = None
        self._svg: str | None = None

    def __repr__(self) -> str:
        return f"<GraphDrawing: {len(self.nodes)} nodes, {len(self.edges)} edges, engine {self.engine!r}>"

    @property
    def output(self) -> Node:
        return next(node for node in self.nodes if node.kind == "output")

    def laid_out(self):
        """(boxes, edge paths, width, height) of the built-in layout, in pixels."""
        if self._layout is None:
            self._layout = _layout(self.nodes, self.edges, self.rankdir)
        return self._layout

    @property
    def svg(self) -> str:
        if self._svg is None:
            self._svg = _dot(self, "svg").decode("utf-8") if self.engine == "dot" else _svg(self)
        return self._svg

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | Path, dpi: int = 150) -> Path:
        """Write the picture to path: .svg, or .png (also .pdf) through matplotlib; returns path."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".svg":
            path.write_text(self.svg, encoding="utf-8")
        elif self.engine == "dot" and suffix in (".png", ".pdf"):
            path.write_bytes(_dot(self, suffix[1:]))
        elif suffix in (".png", ".pdf"):
            _matplotlib(self, path, dpi)
        else:
            raise ValueError(f"cannot save a graph as {path.name!r}: use a .svg, .png or .pdf file name")
        return path


def _svg(drawing: GraphDrawing) -> str:
    boxes, paths, width, height = drawing.laid_out()
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{_FONT}" font-size="{_FONT_PX}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    for e, points in zip(drawing.edges, paths):
        d = f"M {points[0][0]:.1f} {points[0][1]:.1f} " + " ".join(
            "C " + " ".join(f"{c:.1f}" for c in seg) for seg in _curve(points, drawing.rankdir)
        )
        out.append(
            f'<g class="edge" data-src="{e.src}" data-dst="{e.dst}"><path d="{d}" fill="none" '
            f'stroke="#555" stroke-width="1.2" marker-end="url(#arrow)"/>'
        )
        if e.count > 1:
            x, y = points[-1]
            out.append(f'<text x="{x - 4:.1f}" y="{y - 4:.1f}" text-anchor="end" font-size="10">×{e.count}</text>')
        out.append("</g>")
    for node, b in zip(drawing.nodes, boxes):
        fill = _FILL[node.kind]
        out.append(f'<g class="node {node.kind}" data-id="{node.id}"><title>{escape(node.label)}</title>')
        if node.shape == "ellipse":
            out.append(
                f'<ellipse cx="{b.x + b.w / 2:.1f}" cy="{b.y:.1f}" rx="{b.w / 2:.1f}" ry="{b.h / 2:.1f}" '
                f'fill="{fill}" stroke="#333"/>'
            )
        else:
            stroke = ' stroke-width="2"' if node.kind in ("param", "output") else ""
            out.append(
                f'<rect x="{b.x:.1f}" y="{b.y - b.h / 2:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="4" '
                f'fill="{fill}" stroke="#333"{stroke}/>'
            )
        first = b.y - (len(node.lines) - 1) * _LINE_PX / 2
        for k, line in enumerate(node.lines):
            weight = ' font-weight="bold"' if k == 0 and node.kind in ("param", "op") and node.shape == "box" else ""
            out.append(
                f'<text x="{b.x + b.w / 2:.1f}" y="{first + k * _LINE_PX:.1f}" text-anchor="middle" '
                f'dominant-baseline="central"{weight}>{escape(line)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _matplotlib(drawing: GraphDrawing, path: Path, dpi: int) -> None:
    """The built-in layout drawn with matplotlib (a Figure of its own: pyplot's state is untouched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path as MPath

    boxes, paths, width, height = drawing.laid_out()
    px = 1 / 96  # an SVG pixel is 1/96 inch
    fig = Figure(figsize=(width * px, height * px))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")  # (add_artist, not add_patch, below: no autoscaling to pay for)
    points_per_px = 72 / 96
    for e, points in zip(drawing.edges, paths):
        verts, codes = [points[0]], [MPath.MOVETO]
        for seg in _curve(points, drawing.rankdir):
            verts += [seg[0:2], seg[2:4], seg[4:6]]
            codes += [MPath.CURVE4] * 3
        ax.add_artist(FancyArrowPatch(path=MPath(verts, codes), arrowstyle="-|>,head_length=5,head_width=2.5",
                                     color="#555", lw=1.2 * points_per_px, mutation_scale=1.5))
        if e.count > 1:
            x, y = points[-1]
            ax.text(x - 4, y - 4, f"×{e.count}", ha="right", va="bottom", fontsize=10 * points_per_px)
    for node, b in zip(drawing.nodes, boxes):
        fill = _FILL[node.kind]
        lw = (2 if node.kind in ("param", "output") else 1) * points_per_px
        if node.shape == "ellipse":
            ax.add_artist(Ellipse((b.x + b.w / 2, b.y), b.w, b.h, facecolor=fill, edgecolor="#333", lw=lw))
        else:
            ax.add_artist(FancyBboxPatch((b.x, b.y - b.h / 2), b.w, b.h, boxstyle="round,pad=0,rounding_size=4",
                                        facecolor=fill, edgecolor="#333", lw=lw))
        first = b.y - (len(node.lines) - 1) * _LINE_PX / 2
        for k, line in enumerate(node.lines):
            bold = k == 0 and node.kind in ("param", "op") and node.shape == "box"
            ax.text(b.x + b.w / 2, first + k * _LINE_PX, line, ha="center", va="center", family="monospace",
                    fontsize=_FONT_PX * points_per_px, fontweight="bold" if bold else "normal")
    fig.savefig(path, dpi=dpi, facecolor="white")


# -- graphviz, when asked for and installed


def _dot_source(drawing: GraphDrawing) -> str:
    lines = ["digraph {", f"  rankdir={drawing.rankdir};", '  node [fontname="monospace", fontsize=10, style="filled,rounded"];']
    for node in drawing.nodes:
        label = node.label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        shape = "ellipse" if node.shape == "ellipse" else "box"
        lines.append(f'  n{node.id} [label="{label}", shape={shape}, fillcolor="{_FILL[node.kind]}"];')
    for e in drawing.edges:
        label = f' [label="×{e.count}"]' if e.count > 1 else ""
        lines.append(f"  n{e.src} -> n{e.dst}{label};")
    lines.append("}")
    return "\n".join(lines)


def _dot(drawing: GraphDrawing, fmt: str) -> bytes:
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("graphviz's dot program is no longer on PATH")
    run = subprocess.run([dot, f"-T{fmt}"], input=_dot_source(drawing).encode("utf-8"), capture_output=True)
    if run.returncode != 0:
        raise RuntimeError(f"dot -T{fmt} failed: {run.stderr.decode(errors='replace').strip()}")
    return run.stdout


# ============================================================== the entry point


def draw_graph(root, params: Mapping[str, object] | None = None, *, rankdir: str = "LR", engine: str = "builtin",
               max_nodes: int = MAX_NODES) -> GraphDrawing:
    """Draw the graph that computed root: a Tensor (its backward graph, as torchviz draws it;
    a torch tensor works too) or a scalar.Value (micrograd's picture: data and grad per Value).

    params: names for leaves, e.g. dict(model.named_parameters()) (or the (name, tensor) pairs
    themselves); named leaves are marked.
    rankdir: "LR" (the default: from the leaves on the left to the output on the right) or "TB"
    (top to bottom: a deep graph, 20 ops in a row, is easier to read in a notebook that way).
    engine: "builtin" (the default: lays out and writes the SVG here) or "dot" (graphviz, if its
    dot program is on PATH; otherwise a one-line warning and the built-in layout).
    max_nodes: a graph with more nodes raises ValueError instead of drawing an unreadable wall.
    """
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' or 'TB', not {rankdir!r}")
    if engine not in ("builtin", "dot"):
        raise ValueError(f"engine must be 'builtin' or 'dot', not {engine!r}")
    if hasattr(root, "_prev") and hasattr(root, "_op"):
        nodes, edges = _value_graph(root, params, max_nodes)
    elif hasattr(root, "grad_fn") and hasattr(root, "shape"):
        nodes, edges = _tensor_graph(root, params, max_nodes)
    else:
        raise TypeError(f"draw_graph expects a Tensor or a scalar.Value, not {type(root).__name__}")
    if engine == "dot" and shutil.which("dot") is None:
        warnings.warn("engine='dot': graphviz's dot program is not on PATH; drawing with the built-in layout",
                      stacklevel=2)
        engine = "builtin"
    return GraphDrawing(nodes, edges, engine, rankdir)
