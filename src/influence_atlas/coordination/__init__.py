"""Who acts in concert: coordinated sharing and copy-pasta among accounts in social-media post data.

posts (csv/jsonl/parquet) → `load_posts` → `estimate_window` (or a given window) →
`co_share_edges` / `co_text_edges` → `find_clusters` → writers (CSV, GEXF/GraphML, JSON).
`detect_coordination` runs the whole chain; the store keeps results beside the document analysis.
"""

from .clusters import Cluster, Clusters, SharedObject, find_clusters
from .cotext import co_text_edges, jaccard, text_tokens
from .detect import CoordinationResult, CoordinationSettings, detect_coordination
from .edges import Edges, co_share_edges
from .posts import LoadReport, PostColumns, Posts, load_posts, posts_from_frame
from .synthetic import SyntheticPosts, make_synthetic_posts
from .window import WindowEstimate, estimate_window
from .writers import result_json, write_edges_csv, write_graph, write_json

__all__ = [
    "Cluster", "Clusters", "CoordinationResult", "CoordinationSettings", "Edges", "LoadReport", "PostColumns", "Posts",
    "SharedObject", "SyntheticPosts", "WindowEstimate", "co_share_edges", "co_text_edges", "detect_coordination",
    "estimate_window", "find_clusters", "jaccard", "load_posts", "make_synthetic_posts", "posts_from_frame",
    "result_json", "text_tokens", "write_edges_csv", "write_graph", "write_json",
]
