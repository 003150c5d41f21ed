"""The architecture picture, derived from the synthesized templates.

    python -m tools.report.diagram [--assembly cdk.out] [--out cdk.out/report]

Boxes are resources picked by type (WAF, REST API, Lambda functions, queues,
tables, buckets, SageMaker endpoints, Studio, VPC); arrows are references
between them: API method integrations, event source mappings, dead-letter
targets, data capture destinations, and the resources each function's or
Studio's role may act on. Nothing is drawn by hand, so a config change (another
instance type, a second model, Studio on) changes the picture.

Modules: graph (boxes, arrows, VPC frames), derivation (the graph from the
assembly, with nodes and vpcs), placement (grid layout), geometry (arrow bends
and label spots), drawing (matplotlib; imported by draw only when called).
"""

from __future__ import annotations

from tools.report.diagram.derivation import derive
from tools.report.diagram.drawing import draw
from tools.report.diagram.graph import Edge, Graph, Node, Vpc
from tools.report.diagram.placement import layout

__all__ = ["Edge", "Graph", "Node", "Vpc", "derive", "draw", "layout"]
