"""The identity graph: a user's names (address, user id, display name) as nodes, joined by evidence."""

from __future__ import annotations

from collections import defaultdict

from bes_logdiag.model import Event, Join
from bes_logdiag.names import fold
from bes_logdiag.usermap import MapEntry


class IdentityGraph:
    """Union-find over identity nodes (``e:`` address, ``i:`` user id, ``n:`` display name).

    Each root keeps the kinds of node its group holds, merged on union, so asking whether a
    group has an address or an id costs no walk over the nodes (issue 14: thousands of users).
    """

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.joins: dict[str, list[Join]] = defaultdict(list)
        self._kinds: dict[str, set[str]] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        if x not in parent:
            parent[x] = x
            self._kinds[x] = {x[:2]}
            return x
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: str, b: str, join: Join | None = None) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.joins[ra].extend(self.joins.pop(rb, []))
            self._kinds[ra] |= self._kinds.pop(rb)
        if join is not None:
            self.joins[ra].append(join)

    def has(self, root: str, kind: str) -> bool:
        """Whether the group of ``root`` (a root, as ``find`` gives it) holds a node of ``kind``
        (``e:``, ``i:`` or ``n:``).  A node that is no root has no group of its own: False."""
        return self.parent.get(root) == root and kind in self._kinds[root]


def event_nodes(e: Event) -> list[str]:
    """Identity nodes of an event.  A display name next to a user id is an attribute of that id,
    not a node of its own: two people may share a name, never an id."""
    return _nodes(e.email, e.user_id, e.display_name, name_beside_id=False)


def entry_nodes(m: MapEntry) -> list[str]:
    """Identity nodes of a user map row: every name it gives."""
    return _nodes(m.email, m.user_id, m.display_name, name_beside_id=True)


def _nodes(email: str | None, user_id: str | None, display: str | None, *, name_beside_id: bool) -> list[str]:
    out = []
    if email:
        out.append(f"e:{email}")
    if user_id:
        out.append(f"i:{user_id}")
    if display and (name_beside_id or not user_id):
        out.append(f"n:{fold(display)}")
    return out
