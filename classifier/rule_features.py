"""The named rules that fired, as model features: one column per rule id, one per flag ("any rule of it").

The flag models read these beside the words, so they learn which rules are precise (SG_SAVING_TABLETS)
and which fire mostly on look-alikes: a rule hit alone is then at most a check, unless the model agrees.
The columns are fixed at training time (stored with the model): a rule added later reads as no column
until the model is retrained; a rule removed later is a column that is always 0.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from classifier import RuleHit


class RuleColumns:
    def __init__(self, rule_ids: list[str], flags: list[str]) -> None:
        self.names = [f"rule:{r}" for r in rule_ids] + [f"flag:{f}" for f in flags]
        self._column = {name: i for i, name in enumerate(self.names)}

    @classmethod
    def from_names(cls, names: list[str]) -> "RuleColumns":
        """The columns as stored with a model ("rule:SG_SAVING_TABLETS", ..., "flag:safeguarding", ...)."""
        columns = cls([], [])
        columns.names = list(names)
        columns._column = {name: i for i, name in enumerate(names)}
        return columns

    def matrix(self, hits: list[tuple[RuleHit, ...]]) -> sp.csr_matrix:
        """(messages, columns): 1 where that message's hits include the rule, or a rule of the flag."""
        indices: list[int] = []
        indptr = [0]
        for message_hits in hits:
            columns = {self._column.get(f"rule:{h.rule_id}") for h in message_hits}
            columns |= {self._column.get(f"flag:{h.flag}") for h in message_hits}
            columns.discard(None)
            indices.extend(sorted(columns))
            indptr.append(len(indices))
        return sp.csr_matrix((np.ones(len(indices), dtype=np.float32), np.array(indices, dtype=np.int32),
                              np.array(indptr, dtype=np.int64)), shape=(len(hits), len(self.names)))


def with_rules(X: sp.csr_matrix, rules: sp.csr_matrix) -> sp.csr_matrix:
    """The words' features and the rules' columns side by side, as the flag models read them."""
    return sp.hstack([X, rules], format="csr")
