"""Former home of ``APIModel``, now ``domainyours_eval.models.api``."""

from ._relocated import relocated

__getattr__ = relocated(__name__, "domainyours_eval.models.api", ["APIModel"])
