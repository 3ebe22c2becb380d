"""A tree of headers received in any order: every tip with its chain work, the best chain,
stale branches and orphans.

Linking is done on hashes (one ``hash_headers`` call over all inputs, then a dict); chain work
accumulates from the root. Validation reuses ``hashcore.chain.verify``: the best chain is
verified in height order with the fast path, and each side branch is verified as a window
anchored on the headers before its fork point. The best tip is the valid tip with the most
work (Core's rule; ties go to the tip seen first).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hashcore.chain import Anchor, Failure, VerifyReport, verify
from hashcore.core import hash_headers
from hashcore.header import HEADER_SIZE, BlockHeader, header_bytes, work_from_bits
from hashcore.params import NetworkParams, get_params


@dataclass(frozen=True)
class Branch:
    """A tip and the part of its chain that is not on the best chain."""

    tip_hash: str
    tip_height: int
    fork_height: int  # height of the last header it shares with the best chain
    length: int  # headers after the fork point
    chainwork: int
    valid: bool
    failure: Failure | None = None

    def to_dict(self) -> dict:
        return {"tip_hash": self.tip_hash, "tip_height": self.tip_height,
                "fork_height": self.fork_height, "length": self.length,
                "chainwork": self.chainwork, "valid": self.valid,
                "failure": self.failure.to_dict() if self.failure else None}


@dataclass
class TreeReport:
    best: VerifyReport
    best_chain_count: int
    tips: int
    stale: list[Branch] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # display hashes whose parent never came
    orphan_descendants: int = 0
    duplicates: int = 0

    @property
    def ok(self) -> bool:
        return self.best.ok and all(b.valid for b in self.stale)


class HeaderTree:
    """Headers in any order. ``add`` buffers; ``build`` links, scores and verifies."""

    def __init__(self, network: str | NetworkParams = "mainnet", *,
                 start_height: int | None = None, now: int | None = None) -> None:
        self.params = get_params(network)
        self.start_height = start_height
        self.now = now
        self._parts: list[bytes] = []
        self._built = False

    def add(self, headers) -> None:
        """Add N*80 bytes (or one BlockHeader) in any order; duplicates are counted once."""
        if isinstance(headers, BlockHeader):
            headers = headers.to_bytes()
        self._parts.append(header_bytes(headers).tobytes())
        self._built = False

    # ------------------------------------------------------------------ linking
    def _link(self) -> None:
        data = b"".join(self._parts)
        rows = header_bytes(data)
        hashes = hash_headers(rows)
        index: dict[bytes, int] = {}
        keep = []
        for i in range(len(rows)):
            h = hashes[i].tobytes()
            if h not in index:
                index[h] = len(keep)
                keep.append(i)
        self.duplicates = len(rows) - len(keep)
        self.rows = rows[keep]
        self.hashes = [hashes[i].tobytes() for i in keep]
        self.index = index
        n = len(self.rows)
        prevs = [self.rows[i, 4:36].tobytes() for i in range(n)]
        self.parent = [index.get(p, -1) for p in prevs]
        children: dict[int, list[int]] = {}
        for i, p in enumerate(self.parent):
            if p >= 0:
                children.setdefault(p, []).append(i)
        self.children = children
        roots = [i for i in range(n) if self.parent[i] < 0]
        genesis = bytes.fromhex(self.params.genesis_hash)[::-1]
        if genesis in index:
            root, root_height = index[genesis], 0
        elif roots:
            sizes = {r: self._subtree_depth(r) for r in roots}
            root = max(roots, key=lambda r: (sizes[r], -r))
            root_height = self.start_height if self.start_height is not None else 0
        else:
            root, root_height = -1, 0
        self.root, self.root_height = root, root_height
        self.orphan_roots = [r for r in roots if r != root]
        # heights and chain work from the root, iteratively
        self.height = [-1] * n
        self.work = [0] * n
        work_cache: dict[int, int] = {}
        bits = self.rows[:, 72:76].copy().view("<u4").reshape(-1).tolist()
        if root >= 0:
            stack = [root]
            self.height[root] = root_height
            self.work[root] = self._bits_work(bits[root], work_cache)
            while stack:
                node = stack.pop()
                for c in children.get(node, ()):
                    self.height[c] = self.height[node] + 1
                    self.work[c] = self.work[node] + self._bits_work(bits[c], work_cache)
                    stack.append(c)
        self.orphan_descendants = sum(1 for h in self.height if h < 0) - len(self.orphan_roots)

    @staticmethod
    def _bits_work(bits: int, cache: dict[int, int]) -> int:
        w = cache.get(bits)
        if w is None:
            w = cache[bits] = work_from_bits(bits)
        return w

    def _subtree_depth(self, root: int) -> int:
        depth, frontier = 0, [root]
        while frontier:
            depth += 1
            frontier = [c for n in frontier for c in self.children.get(n, ())]
        return depth

    def _path(self, tip: int, stop: set[int] | None = None) -> list[int]:
        """Indices from the root (or the first node in ``stop``, exclusive) to ``tip``."""
        path = []
        node = tip
        while node >= 0 and (stop is None or node not in stop):
            path.append(node)
            node = self.parent[node]
        path.reverse()
        return path

    def _ancestors(self, node: int, count: int) -> list[int]:
        """``node`` and up to ``count - 1`` of its ancestors, oldest first."""
        out = []
        while node >= 0 and len(out) < count:
            out.append(node)
            node = self.parent[node]
        out.reverse()
        return out

    # ------------------------------------------------------------------ public
    def build(self) -> TreeReport:
        """Link everything, pick the best valid tip, verify every branch."""
        self._link()
        n = len(self.rows)
        tips = [i for i in range(n) if self.height[i] >= 0 and i not in self.children]
        tips.sort(key=lambda i: (-self.work[i], i))
        best_report = None
        best_tip = None
        failed_tips: dict[int, VerifyReport] = {}
        for tip in tips:
            path = self._path(tip)
            report = verify(self.rows[path], self.params, start_height=self.root_height,
                            now=self.now)
            if report.ok:
                best_report, best_tip = report, tip
                break
            failed_tips[tip] = report
            if best_report is None:
                best_report, best_tip = report, tip  # fallback: most work, with its failure
        if best_tip is None:
            best_report = VerifyReport(network=self.params.name,
                                       start_height=self.root_height)
            main: set[int] = set()
        else:
            if not best_report.ok:  # no valid tip: keep the most-work one and its failure
                best_tip = tips[0]
                best_report = failed_tips.get(best_tip, best_report)
            main = set(self._path(best_tip))
        stale = []
        for tip in tips:
            if tip == best_tip:
                continue
            branch = self._path(tip, stop=main)
            fork_parent = self.parent[branch[0]]
            fork_height = self.height[fork_parent] if fork_parent >= 0 else self.root_height - 1
            start = self.height[branch[0]]
            anchor = None
            if fork_parent >= 0:
                before = self._ancestors(fork_parent, self.params.interval + 1)
                anchor = Anchor(headers=self.rows[before].tobytes())
            report = verify(self.rows[branch], self.params, start_height=start,
                            anchor=anchor, now=self.now)
            stale.append(Branch(self.hashes[tip][::-1].hex(), self.height[tip], fork_height,
                                len(branch), self.work[tip], report.ok, report.failure))
        self.best_tip = best_tip
        self._built = True
        return TreeReport(best=best_report, best_chain_count=len(main), tips=len(tips),
                          stale=stale,
                          orphans=[self.hashes[r][::-1].hex() for r in self.orphan_roots],
                          orphan_descendants=self.orphan_descendants,
                          duplicates=self.duplicates)

    def best_chain(self) -> bytes:
        """The best chain's headers in height order (N*80 bytes), after ``build``."""
        if not self._built:
            self.build()
        if self.best_tip is None:
            return b""
        return self.rows[self._path(self.best_tip)].tobytes()

    def tips(self) -> list[tuple[str, int, int]]:
        """(display hash, height, chain work) of every tip, most work first."""
        if not self._built:
            self.build()
        n = len(self.rows)
        tips = [i for i in range(n) if self.height[i] >= 0 and i not in self.children]
        tips.sort(key=lambda i: (-self.work[i], i))
        return [(self.hashes[i][::-1].hex(), self.height[i], self.work[i]) for i in tips]


def order_headers(data: bytes) -> np.ndarray:
    """Indices that put a buffer's headers in parent-before-child order where possible."""
    rows = header_bytes(data)
    hashes = hash_headers(rows)
    pos = {hashes[i].tobytes(): i for i in range(len(rows))}
    order, seen = [], set()
    for i in range(len(rows)):
        chain = []
        node = i
        while node not in seen and node >= 0:
            chain.append(node)
            node = pos.get(rows[node, 4:36].tobytes(), -1)
        for j in reversed(chain):
            if j not in seen:
                seen.add(j)
                order.append(j)
    return np.array(order, dtype=np.int64)


__all__ = ["Branch", "HeaderTree", "TreeReport", "order_headers", "HEADER_SIZE"]
