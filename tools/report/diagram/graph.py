"""The picture's graph: boxes (nodes), arrows (edges) and the VPC frames around boxes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Node:
    key: str
    kind: str
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class Edge:
    src: str
    dst: str
    label: str = ""


@dataclass
class Vpc:
    key: str
    title: str
    lines: list[str]
    members: set[str] = field(default_factory=set)


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    vpcs: list[Vpc] = field(default_factory=list)
    title: str = ""

    def add(self, node: Node) -> str:
        self.nodes.setdefault(node.key, node)
        return node.key

    def link(self, src: str, dst: str, label: str = "") -> None:
        for edge in self.edges:
            if edge.src == src and edge.dst == dst:
                if label and label not in edge.label.split(", "):
                    edge.label = ", ".join(filter(None, [edge.label, label]))
                return
        self.edges.append(Edge(src, dst, label))
