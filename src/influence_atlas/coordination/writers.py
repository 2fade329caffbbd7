"""Write coordination results: edges CSV, GEXF (Gephi) or GraphML, and JSON; sorted, so two runs diff clean."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import polars as pl

from ..errors import AtlasError
from .clusters import Clusters
from .edges import Edges

GRAPH_FORMATS = (".gexf", ".graphml")


def write_edges_csv(edges: Edges, path: str | Path) -> Path:
    """Write `account_a,account_b,weight` (sorted; account_a < account_b unless directed) and return the path."""
    path = Path(path)
    _parent(path)
    edges.named().write_csv(path)
    return path


def _parent(path: Path) -> None:
    if path.is_dir():
        raise AtlasError(f"{path} is a folder: name a file to write, e.g. {path / 'edges.csv'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AtlasError(f"cannot create the folder for {path}: {exc}") from exc


def _lines(frame: pl.DataFrame, template: str, columns: list[str]) -> str:
    if frame.height == 0:
        return ""
    return "\n".join(frame.select(pl.format(template, *columns)).to_series().to_list()) + "\n"


def _graph_tables(edges: Edges, clusters: Clusters) -> tuple[pl.DataFrame, pl.DataFrame]:
    escaped = pl.col("account").map_elements(quoteattr, return_dtype=pl.String)
    nodes = clusters.membership.with_columns(attr=escaped, cluster_attr=pl.col("cluster").map_elements(quoteattr, return_dtype=pl.String))
    named = edges.named().with_row_index("i")
    quoted = nodes.select("account", "attr")
    links = (
        named.join(quoted.rename({"account": "account_a", "attr": "source"}), on="account_a", how="left")
        .join(quoted.rename({"account": "account_b", "attr": "target"}), on="account_b", how="left")
        .sort("i")
    )
    return nodes, links


def write_graph(edges: Edges, clusters: Clusters, path: str | Path) -> Path:
    """Write the network as GEXF 1.3 (for Gephi) or GraphML, chosen by the suffix; nodes carry cluster and component."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in GRAPH_FORMATS:
        raise AtlasError(f"cannot tell the graph format of {path}: name it .gexf (Gephi) or .graphml")
    _parent(path)
    nodes, links = _graph_tables(edges, clusters)
    kind = "directed" if edges.directed else "undirected"
    with path.open("w", encoding="utf-8") as out:
        if suffix == ".gexf":
            out.write('<?xml version="1.0" encoding="UTF-8"?>\n<gexf xmlns="http://gexf.net/1.3" version="1.3">\n')
            out.write(f"  <meta><creator>Influence Atlas</creator><description>{escape(edges.mode)} network; "
                      f"edge weight = {escape(edges.weight_meaning)}</description></meta>\n")
            out.write(f'  <graph defaultedgetype="{kind}" mode="static">\n')
            out.write('    <attributes class="node">\n      <attribute id="cluster" title="cluster" type="string"/>\n'
                      '      <attribute id="component" title="component" type="integer"/>\n    </attributes>\n    <nodes>\n')
            out.write(_lines(nodes, '      <node id={} label={}><attvalues><attvalue for="cluster" value={}/>'
                                    '<attvalue for="component" value="{}"/></attvalues></node>',
                             ["attr", "attr", "cluster_attr", "component"]))
            out.write("    </nodes>\n    <edges>\n")
            out.write(_lines(links, '      <edge id="{}" source={} target={} weight="{}"/>', ["i", "source", "target", "weight"]))
            out.write("    </edges>\n  </graph>\n</gexf>\n")
        else:
            out.write('<?xml version="1.0" encoding="UTF-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n')
            out.write('  <key id="cluster" for="node" attr.name="cluster" attr.type="string"/>\n'
                      '  <key id="component" for="node" attr.name="component" attr.type="int"/>\n'
                      '  <key id="weight" for="edge" attr.name="weight" attr.type="int"/>\n')
            out.write(f'  <graph id="coordination" edgedefault="{kind}">\n')
            out.write(_graphml_nodes(nodes))
            out.write(_lines(links, '    <edge source={} target={}><data key="weight">{}</data></edge>', ["source", "target", "weight"]))
            out.write("  </graph>\n</graphml>\n")
    return path


def _graphml_nodes(nodes: pl.DataFrame) -> str:
    text = nodes.with_columns(cluster_text=pl.col("cluster").map_elements(escape, return_dtype=pl.String))
    return _lines(text, '    <node id={}><data key="cluster">{}</data><data key="component">{}</data></node>',
                  ["attr", "cluster_text", "component"])


def result_json(result) -> dict:
    """Return the JSON-ready summary of a CoordinationResult: settings, input report, window, clusters, edges."""
    edges = result.edges
    named = edges.named()
    return {
        "run": result.run_id,
        "settings": asdict(result.settings),
        "columns": asdict(result.columns),
        "input": asdict(result.report),
        "window": {"seconds": result.window, "estimated": asdict(result.estimate) if result.estimate else None},
        "network": {
            "mode": edges.mode, "directed": edges.directed, "min_repeat": edges.min_repeat,
            "similarity": edges.similarity, "weight": edges.weight_meaning, "candidate_pairs": edges.candidate_pairs,
            "posts_used": edges.posts_used, "edges": named.height,
            "accounts": result.clusters.membership.height, "components": result.clusters.components,
            "clustering": result.clusters.method, "resolution": result.clusters.resolution,
            "modularity": result.clusters.modularity,
        },
        "clusters": [
            {**{k: v for k, v in asdict(c).items() if k != "objects"}, "size": c.size,
             "objects": [asdict(o) for o in c.objects]}
            for c in result.clusters.clusters
        ],
        "edges": [list(row) for row in named.iter_rows()],
    }


def write_json(result, path: str | Path) -> Path:
    """Write the result as one JSON object (sorted keys, stable order) and return the path."""
    path = Path(path)
    _parent(path)
    path.write_text(json.dumps(result_json(result), ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path
