"""The layered SVG graph: pure nodes and edges in, escaped SVG out."""

from __future__ import annotations

import re

from itsmo.cmdb import graph
from itsmo.cmdb.impact import (
    AffectedCI,
    AffectedProcess,
    AffectedService,
    ImpactResult,
    PathStep,
)


def x_of(svg: str, label: str) -> float:
    """The x of the box whose label is ``label``."""
    match = re.search(r'<rect x="(\d+)"[^>]*/><text[^>]*>' + re.escape(label) + "<", svg)
    assert match, label
    return float(match.group(1))


def test_text_is_escaped_and_urls_are_quoted():
    drawing = graph.Graph(
        nodes=[
            graph.Node(
                id="a", label='<script>alert("x")</script> & co', layer=0, url='/cmdb/1/?a=1&b="2"'
            ),
            graph.Node(id="b", label="B", layer=1, sublabel="<b>bold</b>"),
        ],
        edges=[graph.Edge("a", "b", "depends_on")],
        layers={0: "<Root>"},
    )
    svg = graph.render_svg(drawing, title="A & B")
    assert "<script>" not in svg and "<b>" not in svg and "<Root>" not in svg.upper()
    assert "&lt;script&gt;" in svg and "&amp; co" in svg
    assert "href='/cmdb/1/?a=1&amp;b=\"2\"'" in svg  # xml.sax quoteattr
    assert "<title>A &amp; B</title>" in svg


def test_layers_go_left_to_right_and_nodes_link_to_their_pages():
    drawing = graph.Graph(
        nodes=[
            graph.Node(id="root", label="Root", layer=0, kind="root", url="/r"),
            graph.Node(id="mid", label="Middle", layer=1, url="/m"),
            graph.Node(id="svc", label="Service", layer=2, kind="service", url="/s"),
        ],
        edges=[graph.Edge("root", "mid", "connects_to"), graph.Edge("mid", "svc", "delivers")],
    )
    svg = graph.render_svg(drawing)
    assert x_of(svg, "Root") < x_of(svg, "Middle") < x_of(svg, "Service")
    assert len(re.findall('stroke-opacity="0\\.\\d+"', svg)) == 2
    assert '<a href="/m"' in svg
    assert svg.startswith("<svg") and svg.endswith("</svg>")


def test_a_crowded_column_is_summarised():
    nodes = [graph.Node(id="root", label="Root", layer=0, kind="root")]
    nodes += [
        graph.Node(id=f"n{i}", label=f"Node {i}", layer=1, priority=0 if i == 77 else 1)
        for i in range(100)
    ]
    edges = [graph.Edge("root", f"n{i}", "depends_on") for i in range(100)]
    svg = graph.render_svg(
        graph.Graph(nodes=nodes, edges=edges),
        max_per_layer=10,
        more_label=lambda n: f"…and {n} more",
    )
    labels = list(graph.node_labels(svg))
    assert "…and 91 more" in labels
    assert "Node 77" in labels  # on an explaining path: kept first
    assert len(labels) == 1 + 10
    assert (
        len(re.findall('stroke-opacity="0\\.\\d+"', svg)) == 9
    )  # edges to summarised nodes are dropped


def test_long_labels_are_shortened_but_kept_whole_in_the_tooltip():
    name = "A very long configuration item name that would overflow its box"
    svg = graph.render_svg(graph.Graph(nodes=[graph.Node(id="a", label=name, layer=0)]))
    assert name in svg  # in <title>
    assert any(
        label.endswith("…") and len(label) <= graph.MAX_LABEL for label in graph.node_labels(svg)
    )


def test_nothing_to_draw():
    svg = graph.render_svg(graph.Graph(), empty_label="Nothing depends on this CI.")
    assert "Nothing depends on this CI." in svg


def test_impact_graph_has_cis_by_depth_then_services_processes_countries():
    wan = AffectedCI(1, "CI1", "WAN link", "link", "CO", "in_operation", 0, [])
    router = AffectedCI(
        2, "CI2", "Router", "network_device", "CO", "in_operation", 1, [(1, "connects_to")]
    )
    hidden = AffectedCI(
        3,
        "CI3",
        "(not visible to you)",
        "server",
        "MX",
        "in_operation",
        2,
        [(2, "depends_on")],
        is_visible=False,
    )
    path = [PathStep(1, "CI1", "WAN link", None), PathStep(2, "CI2", "Router", "connects_to")]
    service = AffectedService(
        10, "route-sales", "Handheld Route Sales", "business", 1, 1, [2], ["CO"], path
    )
    process = AffectedProcess(20, "sales", "Sales", 1, 80, [(10, 80)], ["CO"])
    result = ImpactResult([1], 10, [wan, router, hidden], [service], [process], ["CO"], 3, False)
    drawing = graph.impact_graph(
        result,
        ci_url=lambda i: f"/cmdb/{i}/",
        service_url=lambda i: f"/services/{i}/",
        process_url=lambda i: f"/processes/{i}/",
        country_names={"CO": "Colombia"},
        class_names={"link": "Link / circuit"},
    )
    layers = {node.label: node.layer for node in drawing.nodes}
    assert layers == {
        "WAN link": 0,
        "Router": 1,
        "(not visible to you)": 2,
        "Handheld Route Sales": 3,
        "Sales": 4,
        "Colombia": 5,
    }
    hidden_node = next(n for n in drawing.nodes if n.id == "ci-3")
    assert hidden_node.url is None and hidden_node.kind == "hidden"
    kinds = {(e.source, e.target): e.kind for e in drawing.edges}
    assert kinds[("ci-1", "ci-2")] == "connects_to"
    assert kinds[("ci-2", "service-10")] == "delivers"
    assert kinds[("service-10", "process-20")] == "supports"
    assert kinds[("process-20", "country-CO")] == "located"
    svg = graph.render_svg(drawing)
    assert 'href="/services/10/"' in svg and 'href="/cmdb/3/"' not in svg


def test_a_mesh_of_country_lines_is_left_out():
    wan = AffectedCI(1, "CI1", "Active Directory", "business_application", None, "x", 0, [])
    services = [
        AffectedService(10 + n, f"s{n}", f"Service {n}", "business", 1, 0, [1], ["CO"], [])
        for n in range(3)
    ]
    codes = [f"C{n}" for n in range(10)]
    processes = [
        AffectedProcess(20 + n, f"p{n}", f"Process {n}", 1, 50, [(10, 50)], codes) for n in range(5)
    ]
    result = ImpactResult([1], 10, [wan], services, processes, codes, 1, False)
    drawing = graph.impact_graph(
        result,
        ci_url=str,
        service_url=str,
        labels=graph.ImpactLabels(
            relation_labels=[("depends_on", "depends on"), ("located", "in the country")]
        ),
    )
    assert not [edge for edge in drawing.edges if edge.kind == "located"]
    assert ("located", "in the country") not in drawing.legend
    assert len([node for node in drawing.nodes if node.kind == "country"]) == 10
