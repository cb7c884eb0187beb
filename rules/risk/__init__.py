"""Risk flags (ghost learners and duplicates): each rule is one set-wise query over a round's
data that returns the rows it finds, and a function that writes the reason in the user's words
from the figures the row carries. `compute()` stores them, a DELETE and an INSERT … SELECT per
rule, so a round costs a fixed number of statements whatever its size.

The checks are in learner_checks.py and unit_checks.py, their reasons in reasons.py, the table
of rules in flags.py, the thresholds in thresholds.py, the spot-check weights in sampling.py.
"""

from .flags import RULES, RiskRule, compute, find
from .rows import count_date
from .sampling import sample_weights, weighted_sample
from .thresholds import DEFAULTS, SETTING_LABELS, seed_thresholds, thresholds
from .unit_checks import load_obec_counts

__all__ = ["DEFAULTS", "RULES", "SETTING_LABELS", "RiskRule", "compute", "count_date", "find",
           "load_obec_counts", "sample_weights", "seed_thresholds", "thresholds",
           "weighted_sample"]
