"""From stored results to statements about them: the results frame, each variant's
native baseline, per-cell summaries and ratios, the statistics they use, the warnings
that say what to change, and the invariants a run must keep. Nothing here touches an
engine; the terminal and the report both render what this package computes."""
