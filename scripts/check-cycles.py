#!/usr/bin/env python3
"""Fails when the backend's domain modules import each other in a cycle.

The graph: one node per top-level module of backend/src (`codes`, `purchases`, `seed.rs` ...), an
edge M -> X for every `crate::X` path (in a `use` or inline) written in M's files. A second pass does
the same one level down, inside each module folder: `super::Y` / `crate::M::Y` from M/X.rs is an edge
X -> Y (so `purchases::service` <-> `purchases::stream` counts).

Left out as nodes (the composition root and shared infrastructure, which may be used by everything and
may wire everything): see ROOT below. Their own imports are not edges either: `startup` builds every
router, `state` holds every service. A domain module must not reach *up* into another domain module
that reaches back: one direction per pair, lower modules expose a function, a trait or an event sink.

Exit status 1 with every cycle printed (`a -> b -> a`), 0 otherwise. Plain Python 3, no packages.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

# The composition root (builds and holds everything) and shared infrastructure (depends on no domain
# module, used by all). Nothing here is a node of the graph.
ROOT = {
    "lib", "main", "state", "config", "startup", "error", "openapi", "telemetry", "observe",
    "http", "metrics", "db", "clock", "client_ip", "ratelimit", "idempotency", "phone",
}
# Files inside a module folder that only assemble the module (`mod.rs` re-exports, `routes.rs`
# mounts handlers) are nodes like any other in the inner pass; nothing is left out there.

COMMENT = re.compile(r"//.*?$", re.M)
CRATE_PATH = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)(?:::([a-z_][a-z0-9_]*))?")
# `use crate::{a, b::c}` groups: the names right after the brace and after each top-level comma.
CRATE_GROUP = re.compile(r"\bcrate::\{([^;]*)\}", re.S)
# `crate::m::{a, b::c}`: the module, then the heads inside the braces.
CRATE_SUB_GROUP = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)::\{([^;]*)\}", re.S)
SUPER_PATH = re.compile(r"\bsuper::([a-z_][a-z0-9_]*)")
SUPER_GROUP = re.compile(r"\bsuper::\{([^;]*)\}", re.S)


def group_heads(body: str) -> list[tuple[str, str | None]]:
    """The first (and second) path segments of each item in a `{a, b::c, d::{e}}` use group."""
    out, depth, item = [], 0, ""
    for ch in body + ",":
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts = [p.strip() for p in item.strip().split("::")]
            if parts and re.fullmatch(r"[a-z_][a-z0-9_]*", parts[0] or ""):
                second = parts[1] if len(parts) > 1 and re.fullmatch(r"[a-z_][a-z0-9_]*", parts[1]) else None
                out.append((parts[0], second))
            item = ""
        else:
            item += ch
    return out


def crate_refs(text: str) -> list[tuple[str, str | None]]:
    refs = [(m.group(1), m.group(2)) for m in CRATE_PATH.finditer(text)]
    for m in CRATE_GROUP.finditer(text):
        refs.extend(group_heads(m.group(1)))
    for m in CRATE_SUB_GROUP.finditer(text):
        refs.extend((m.group(1), head) for head, _ in group_heads(m.group(2)))
    return refs


def super_refs(text: str) -> list[str]:
    refs = [m.group(1) for m in SUPER_PATH.finditer(text)]
    for m in SUPER_GROUP.finditer(text):
        refs.extend(h for h, _ in group_heads(m.group(1)))
    return refs


def strip_tests(text: str) -> str:
    """Drops `#[cfg(test)] mod … { … }` blocks: a unit test may use anything."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle's strongly connected component, as one representative cycle each."""
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            connect(v)
    return comps


def pairs(graph: dict[str, set[str]], comp: list[str]) -> list[str]:
    """The two-way pairs and, for longer loops, one path around, so the report says what to cut."""
    members = set(comp)
    out = [f"{a} <-> {b}" for a in comp for b in comp if a < b and b in graph.get(a, ()) and a in graph.get(b, ())]
    if not out:
        # A longer loop: walk from the first member back to it.
        start, path, seen = comp[0], [comp[0]], {comp[0]}
        node = start
        while True:
            nxt = sorted(w for w in graph.get(node, ()) if w in members)
            back = [w for w in nxt if w == start]
            if back and len(path) > 1:
                out.append(" -> ".join(path + [start]))
                break
            nxt = [w for w in nxt if w not in seen]
            if not nxt:
                out.append(" , ".join(comp))
                break
            node = nxt[0]
            seen.add(node)
            path.append(node)
    return out


def main() -> int:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "backend/src")
    outer: dict[str, set[str]] = {}
    inner: dict[str, dict[str, set[str]]] = {}
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src).with_suffix("").parts
        top = rel[0]
        if top in ROOT:
            continue
        text = strip_tests(COMMENT.sub("", path.read_text(encoding="utf-8")))
        outer.setdefault(top, set())
        sub = rel[1] if len(rel) > 1 else "mod"
        graph = inner.setdefault(top, {})
        graph.setdefault(sub, set())
        for head, second in crate_refs(text):
            if head in ROOT:
                continue
            if head != top:
                outer[top].add(head)
            elif second and second != sub:
                graph[sub].add(second)
        if len(rel) > 1:
            for head in super_refs(text):
                if head != sub:
                    graph[sub].add(head)
    found = []
    for comp in cycles(outer):
        found += pairs(outer, comp)
    for top, graph in sorted(inner.items()):
        # `mod.rs` declares and re-exports its children; its edges down are structure, not imports.
        graph = {k: {w for w in v if w in graph and w != "mod"} for k, v in graph.items() if k != "mod"}
        for comp in cycles(graph):
            found += [f"{top}::{p}".replace(" <-> ", f" <-> {top}::").replace(" -> ", f" -> {top}::")
                      for p in pairs(graph, comp)]
    if found:
        print("import cycles between backend domain modules (give each pair one direction):")
        for line in found:
            print(f"  {line}")
        return 1
    print(f"no import cycles among {len(outer)} backend domain modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
