"""Former home of the lm-eval sample import, now ``domainyours_eval.harness``."""

from ._relocated import relocated

__getattr__ = relocated(__name__, "domainyours_eval.harness", ["import_lm_eval_samples"])
