"""A layered graph drawn as SVG, for impact analysis and service dependencies. Pure code.

Nodes and edges in, an SVG string out: no ORM, no templates, every text escaped. Layers
are columns from left to right (the failed CI on the left, then the CIs it affects by
depth, then services, business processes and countries). Within a column, nodes are
ordered by the mean position of the nodes that point at them (one barycentre pass), which
keeps most edges short and uncrossed. A column holds at most ``max_per_layer`` nodes; the
rest become one "…and N more" node, so the drawing stays legible whatever the size.

:func:`impact_graph` turns an :class:`itsmo.cmdb.impact.ImpactResult` into nodes and
edges (it takes the URL builders as functions, so it stays pure).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NODE_WIDTH = 216
NODE_HEIGHT = 40
COLUMN_GAP = 72
ROW_GAP = 14
MARGIN = 16
HEADER = 34
LEGEND_ROW = 22
MAX_LABEL = 29
#: Bold labels (the failed CI, services, processes) are wider per character.
MAX_BOLD_LABEL = 26
MAX_SUBLABEL = 35

#: Fill, stroke and text colours per kind of node.
NODE_STYLES = {
    "root": ("#fbeae9", "#b3261e", "#1b2330"),
    "ci": ("#ffffff", "#b7c0cd", "#1b2330"),
    "hidden": ("#f5f7fa", "#d9dee7", "#5b6779"),
    "service": ("#e7eef8", "#1f4e8c", "#14243b"),
    "process": ("#e6f4ea", "#1e6b3a", "#14243b"),
    "country": ("#fdf6d8", "#6b5a00", "#3d3300"),
    "more": ("#f5f7fa", "#d9dee7", "#5b6779"),
}
#: Colour and dash pattern per kind of edge (relationship types and the portfolio links).
EDGE_STYLES = {
    "depends_on": ("#1f4e8c", ""),
    "runs_on": ("#7b3fa0", ""),
    "connects_to": ("#c26a00", "6 3"),
    "contains": ("#2d7d7a", "2 3"),
    "delivers": ("#0b7285", ""),
    "supports": ("#1e6b3a", ""),
    "located": ("#8a7500", "4 3"),
}
DEFAULT_EDGE = ("#8893a2", "")
#: Relationship types: always in the legend of an impact graph.
PROPAGATING_KINDS = frozenset({"depends_on", "runs_on", "connects_to", "contains"})
#: Above this many process → country lines, the impact graph leaves them out.
MAX_COUNTRY_EDGES = 24


@dataclass
class Node:
    id: str
    label: str
    layer: int
    kind: str = "ci"
    sublabel: str = ""
    url: str | None = None
    title: str = ""
    #: Lower first when a column must be cut (``0`` = on a path that explains a service).
    priority: int = 1


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str = ""


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    #: Column headings by layer.
    layers: dict[int, str] = field(default_factory=dict)
    #: ``(edge kind, label)`` shown in the legend, in order.
    legend: list[tuple[str, str]] = field(default_factory=list)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _cut(graph: Graph, max_per_layer: int, more_label: Callable[[int], str]) -> Graph:
    """At most ``max_per_layer`` nodes a column; the rest summarised in one node."""
    by_layer: dict[int, list[Node]] = defaultdict(list)
    for node in graph.nodes:
        by_layer[node.layer].append(node)
    kept: list[Node] = []
    removed: set[str] = set()
    for layer in sorted(by_layer):
        nodes = by_layer[layer]
        if len(nodes) <= max_per_layer:
            kept.extend(nodes)
            continue
        ranked = sorted(nodes, key=lambda n: (n.priority, n.kind != "root"))
        keep = ranked[: max_per_layer - 1]
        kept_ids = {n.id for n in keep}
        kept.extend(n for n in nodes if n.id in kept_ids)
        hidden = [n for n in nodes if n.id not in kept_ids]
        removed |= {n.id for n in hidden}
        kept.append(
            Node(
                id=f"more-{layer}",
                label=more_label(len(hidden)),
                layer=layer,
                kind="more",
                priority=9,
            )
        )
    edges = []
    for edge in graph.edges:
        source = edge.source if edge.source not in removed else None
        target = edge.target if edge.target not in removed else None
        if source and target:
            edges.append(edge)
    return Graph(
        nodes=kept, edges=list(dict.fromkeys(edges)), layers=graph.layers, legend=graph.legend
    )


def _order(graph: Graph) -> dict[int, list[Node]]:
    """Columns, each ordered by the barycentre of its predecessors' positions."""
    by_layer: dict[int, list[Node]] = defaultdict(list)
    for node in graph.nodes:
        by_layer[node.layer].append(node)
    incoming: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        incoming[edge.target].append(edge.source)
    position: dict[str, float] = {}
    ordered: dict[int, list[Node]] = {}
    for layer in sorted(by_layer):
        nodes = by_layer[layer]

        def key(node: Node, index: int) -> tuple:
            if node.kind == "more":
                return (float("inf"), index)
            sources = [position[s] for s in incoming.get(node.id, []) if s in position]
            centre = sum(sources) / len(sources) if sources else float(index)
            return (centre, index)

        indexed = sorted(enumerate(nodes), key=lambda pair: key(pair[1], pair[0]))
        ordered[layer] = [node for _, node in indexed]
        for row, node in enumerate(ordered[layer]):
            position[node.id] = row
    return ordered


def render_svg(
    graph: Graph,
    *,
    title: str = "",
    max_per_layer: int = 12,
    more_label: Callable[[int], str] = lambda n: f"…and {n} more",
    empty_label: str = "Nothing to draw",
) -> str:
    """The graph as an ``<svg>`` element (no XML declaration), sized to its content."""
    graph = _cut(graph, max_per_layer, more_label)
    if not graph.nodes:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="320" '
            f'height="60" viewBox="0 0 320 60" role="img"><text x="16" y="34" '
            f'font-size="14" fill="#5b6779">{escape(empty_label)}</text></svg>'
        )
    ordered = _order(graph)
    layers = sorted(ordered)
    column = {layer: index for index, layer in enumerate(layers)}
    tallest = max(len(nodes) for nodes in ordered.values())
    body_height = tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
    legend_height = (LEGEND_ROW + 8) if graph.legend else 0
    width = MARGIN * 2 + len(layers) * NODE_WIDTH + (len(layers) - 1) * COLUMN_GAP
    height = MARGIN * 2 + HEADER + body_height + legend_height
    boxes: dict[str, tuple[float, float]] = {}
    for layer, nodes in ordered.items():
        x = MARGIN + column[layer] * (NODE_WIDTH + COLUMN_GAP)
        column_height = len(nodes) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
        top = MARGIN + HEADER + (body_height - column_height) / 2
        for row, node in enumerate(nodes):
            boxes[node.id] = (x, top + row * (NODE_HEIGHT + ROW_GAP))

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width}" '
        f'height="{height:.0f}" viewBox="0 0 {width} {height:.0f}" role="img" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">'
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    out.append("<defs>")
    for kind, (colour, _) in [*EDGE_STYLES.items(), ("other", DEFAULT_EDGE)]:
        out.append(
            f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    for layer in layers:
        heading = graph.layers.get(layer, "")
        if heading:
            x = MARGIN + column[layer] * (NODE_WIDTH + COLUMN_GAP)
            out.append(
                f'<text x="{x}" y="{MARGIN + 14}" font-size="12" font-weight="700" '
                f'fill="#5b6779" letter-spacing="0.04em">'
                f"{escape(heading.upper())}</text>"
            )
    out.append('<g class="graph__edges" fill="none" stroke-width="1.6">')
    for edge in graph.edges:
        if edge.source not in boxes or edge.target not in boxes:
            continue
        sx, sy = boxes[edge.source]
        tx, ty = boxes[edge.target]
        x1, y1 = sx + NODE_WIDTH, sy + NODE_HEIGHT / 2
        x2, y2 = tx - 2, ty + NODE_HEIGHT / 2
        if tx <= sx:  # same column or backwards: loop around on the right
            x2, y2 = tx + NODE_WIDTH, ty + NODE_HEIGHT / 2
            bend = max(40.0, abs(y2 - y1) / 3)
            path = (
                f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 + bend:.0f},{y2:.0f} "
                f"{x2 + 2:.0f},{y2:.0f}"
            )
        else:
            bend = (x2 - x1) / 2
            path = (
                f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},{y2:.0f} "
                f"{x2:.0f},{y2:.0f}"
            )
        colour, dash = EDGE_STYLES.get(edge.kind, DEFAULT_EDGE)
        # Edges that jump over columns pass behind other boxes: draw them lighter.
        opacity = 0.75 if abs(tx - sx) <= NODE_WIDTH + COLUMN_GAP else 0.45
        marker = edge.kind if edge.kind in EDGE_STYLES else "other"
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<path d="{path}" stroke="{colour}"{dash_attr} stroke-opacity="{opacity}" '
            f'marker-end="url(#arrow-{marker})"><title>{escape(edge.kind)}</title>'
            f"</path>"
        )
    out.append("</g>")
    out.append('<g class="graph__nodes">')
    for node in graph.nodes:
        x, y = boxes[node.id]
        fill, stroke, text = NODE_STYLES.get(node.kind, NODE_STYLES["ci"])
        tooltip = node.title or " · ".join(filter(None, [node.label, node.sublabel]))
        parts = [
            f"<title>{escape(tooltip)}</title>",
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" '
            f'rx="6" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{2 if node.kind == "root" else 1.2}"/>',
        ]
        label_y = y + (16 if node.sublabel else 25)
        weight = "700" if node.kind in {"root", "service", "process"} else "500"
        style = ' font-style="italic"' if node.kind in {"more", "hidden"} else ""
        parts.append(
            f'<text x="{x + 10:.0f}" y="{label_y:.0f}" font-size="12.5" '
            f'font-weight="{weight}" fill="{text}"{style}>'
            f"{escape(_shorten(node.label, MAX_BOLD_LABEL if weight == '700' else MAX_LABEL))}"
            "</text>"
        )
        if node.sublabel:
            parts.append(
                f'<text x="{x + 10:.0f}" y="{y + 31:.0f}" font-size="11" '
                f'fill="#5b6779">{escape(_shorten(node.sublabel, MAX_SUBLABEL))}'
                f"</text>"
            )
        inner = "".join(parts)
        if node.url:
            out.append(
                f'<a href={quoteattr(node.url)} class="graph__node graph__node--'
                f'{escape(node.kind)}">{inner}</a>'
            )
        else:
            out.append(f'<g class="graph__node graph__node--{escape(node.kind)}">{inner}</g>')
    out.append("</g>")
    if graph.legend:
        y = height - MARGIN - 6
        x = MARGIN
        for kind, label in graph.legend:
            colour, dash = EDGE_STYLES.get(kind, DEFAULT_EDGE)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(
                f'<line x1="{x}" y1="{y - 4}" x2="{x + 26}" y2="{y - 4}" '
                f'stroke="{colour}" stroke-width="2"{dash_attr}/>'
            )
            out.append(
                f'<text x="{x + 32}" y="{y}" font-size="11.5" fill="#1b2330">{escape(label)}</text>'
            )
            x += 44 + 7 * len(label)
    out.append("</svg>")
    return "".join(out)


# --- impact analysis as a graph ----------------------------------------------------------


@dataclass(frozen=True)
class ImpactLabels:
    """Translated words the impact graph shows (the caller translates, this module draws)."""

    root: str = "Failed CI"
    depth: str = "Depth {depth}"
    services: str = "Services"
    processes: str = "Business processes"
    countries: str = "Countries"
    hidden: str = "(not visible to you)"
    relation_labels: Sequence[tuple[str, str]] = ()


def impact_graph(
    result,
    *,
    ci_url: Callable[[int], str],
    service_url: Callable[[int], str],
    process_url: Callable[[int], str] | None = None,
    country_names: dict[str, str] | None = None,
    class_names: dict[str, str] | None = None,
    labels: ImpactLabels | None = None,
) -> Graph:
    """Nodes and edges of an impact result: CIs by depth, services, processes, countries."""
    labels = labels or ImpactLabels()
    country_names = country_names or {}
    class_names = class_names or {}
    graph = Graph()
    max_depth = max((ci.depth for ci in result.cis), default=0)
    service_layer = max_depth + 1
    graph.layers[0] = labels.root
    for depth in range(1, max_depth + 1):
        graph.layers[depth] = labels.depth.format(depth=depth)
    # CIs on a path that explains a service come first when a column must be cut.
    explaining: set[int] = set()
    for service in result.services:
        explaining |= {step.id for step in service.path}
    roots = set(result.roots)
    # Then CIs others depend on (a switch before the laptops behind it).
    parents = {parent_id for ci in result.cis for parent_id, _ in ci.parents}
    for ci in result.cis:
        kind = "root" if ci.id in roots else ("ci" if ci.is_visible else "hidden")
        sublabel = " · ".join(
            filter(None, [ci.number, class_names.get(ci.ci_class, ci.ci_class), ci.country or ""])
        )
        graph.nodes.append(
            Node(
                id=f"ci-{ci.id}",
                label=ci.name if ci.is_visible else labels.hidden,
                layer=ci.depth,
                kind=kind,
                sublabel=sublabel,
                url=ci_url(ci.id) if ci.is_visible else None,
                priority=0
                if (ci.id in explaining or ci.id in roots)
                else 1
                if ci.id in parents
                else 2,
            )
        )
        for parent_id, relation in ci.parents:
            graph.edges.append(Edge(f"ci-{parent_id}", f"ci-{ci.id}", relation or ""))
    if result.services:
        graph.layers[service_layer] = labels.services
    for service in result.services:
        graph.nodes.append(
            Node(
                id=f"service-{service.id}",
                label=service.name,
                layer=service_layer,
                kind="service",
                sublabel=", ".join(service.countries),
                url=service_url(service.id),
            )
        )
        for ci_id in service.via[:3]:
            graph.edges.append(Edge(f"ci-{ci_id}", f"service-{service.id}", "delivers"))
    process_layer = service_layer + 1
    if result.business_processes:
        graph.layers[process_layer] = labels.processes
    countries_of: dict[str, list[str]] = defaultdict(list)
    for process in result.business_processes:
        graph.nodes.append(
            Node(
                id=f"process-{process.id}",
                label=process.name,
                layer=process_layer,
                kind="process",
                sublabel=", ".join(process.countries),
                url=process_url(process.id) if process_url else None,
            )
        )
        for service_id, _weight in process.services:
            graph.edges.append(Edge(f"service-{service_id}", f"process-{process.id}", "supports"))
        for code in process.countries:
            countries_of[code].append(f"process-{process.id}")
    with_process = {sid for p in result.business_processes for sid, _ in p.services}
    for service in result.services:
        if service.id not in with_process:
            for code in service.countries:
                countries_of[code].append(f"service-{service.id}")
    country_layer = process_layer + 1 if result.business_processes else process_layer
    if result.countries:
        graph.layers[country_layer] = labels.countries
    for code in result.countries:
        graph.nodes.append(
            Node(
                id=f"country-{code}",
                label=country_names.get(code, code),
                sublabel=code,
                layer=country_layer,
                kind="country",
            )
        )
        for source in countries_of.get(code, []):
            graph.edges.append(Edge(source, f"country-{code}", "located"))
    located = [edge for edge in graph.edges if edge.kind == "located"]
    if len(located) > MAX_COUNTRY_EDGES:
        # A hub failure hits every process everywhere: a mesh of lines says nothing more
        # than the country column on its own does.
        graph.edges = [edge for edge in graph.edges if edge.kind != "located"]
    kinds = {edge.kind for edge in graph.edges}
    graph.legend = [
        (kind, label)
        for kind, label in labels.relation_labels
        if kind in kinds or kind in PROPAGATING_KINDS
    ]
    return graph


def count_by_layer(graph: Graph) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for node in graph.nodes:
        counts[node.layer] += 1
    return dict(counts)


def node_labels(svg: str) -> Iterable[str]:
    """Helper for tests and debugging: the visible labels in an SVG from :func:`render_svg`."""
    import re

    return re.findall(r'font-size="12.5"[^>]*>([^<]*)</text>', svg)
