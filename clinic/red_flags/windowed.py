"""medspaCy's ConText graph, with each cue compared only with what lies near it.

medspaCy compares every cue ("no", "my mum", "if") with every other cue to limit their
scopes, and with every match to find what it modifies: quadratic in the message's length
(a 2,000-character message of cues took 100 ms, 8,000 characters 870 ms). A cue's scope is a
window of at most `max_scope` words around it, and both comparisons end at once, with no
effect, unless the two spans touch: so only cues and matches whose positions can touch are
compared, found by bisecting sorted positions (linear in the message's length while cues
and their scopes are short, as `max_scope` makes them). The same pairs that can have an effect are
visited in the same order as medspaCy's loops, so the scopes, edges and their order are the
same (tests/clinic/test_red_flags_windowed.py compares both on many messages).

`install()` makes medspaCy's ConText build this graph (it names the class in its module).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from medspacy.context import context as _context
from medspacy.context.context_graph import ConTextGraph
from medspacy.context.context_modifier import ConTextModifier

Box = tuple[int, int]


def _boxes(modifiers: Sequence[ConTextModifier], margin: int = 0) -> list[Box]:
    """For each cue, a closed range of positions that holds its own span and its scope, now
    and (with `margin`, the longest cue) after any limiting by another cue: medspaCy moves a
    scope's edge only onto a cue before or after it, so an edge never leaves that range."""
    boxes = []
    for modifier in modifiers:
        edges = (*modifier.scope_span, *modifier.modifier_span)
        boxes.append((min(edges), max(edges) + margin))
    return boxes


class _Index:
    """The boxes sorted by where they start, to find those meeting a range by bisection."""

    def __init__(self, boxes: list[Box]) -> None:
        self.boxes = boxes
        self.order = sorted(range(len(boxes)), key=lambda k: boxes[k][0])
        self.starts = [boxes[k][0] for k in self.order]
        self.widest = max((end - start for start, end in boxes), default=0)

    def meeting(self, span: Box) -> list[int]:
        """Indices of the boxes that meet the closed range `span`, in their original order.
        medspaCy's `tuple_overlaps` is true only when an edge of one span lies within the
        other, so two spans whose boxes do not meet are never related."""
        low = bisect.bisect_left(self.starts, span[0] - self.widest)
        high = bisect.bisect_right(self.starts, span[1])
        return sorted(k for k in self.order[low:high] if self.boxes[k][1] >= span[0])


class WindowedConTextGraph(ConTextGraph):
    """`ConTextGraph` whose two loops skip the pairs that cannot touch."""

    def update_scopes(self) -> None:
        modifiers = self.modifiers
        longest = max((m.modifier_span[1] - m.modifier_span[0] for m in modifiers), default=0)
        index = _Index(_boxes(modifiers, margin=longest))
        for i in range(len(modifiers) - 1):
            first = modifiers[i]
            for j in (k for k in index.meeting(index.boxes[i]) if k > i):
                second = modifiers[j]
                first.limit_scope(second)
                second.limit_scope(first)

    def apply_modifiers(self) -> None:
        if self.prune_on_modifier_overlap:  # not used here; medspaCy's own loops
            return super().apply_modifiers()
        modifiers = self.modifiers
        index = _Index(_boxes(modifiers))
        for target in self.targets:
            for k in index.meeting((target.start, target.end)):
                if modifiers[k].modifies(target):
                    modifiers[k].modify(target)
        edges: list[tuple] = []
        for modifier in modifiers:
            modifier.reduce_targets()
            edges.extend((target, modifier) for target in modifier._targets)
        self.edges = edges


def install() -> None:
    """Make medspaCy's ConText use the windowed graph (idempotent)."""
    _context.ConTextGraph = WindowedConTextGraph
