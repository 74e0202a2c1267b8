"""Former home of ``HFModel``, now ``domainyours_eval.models.hf``."""

from ._relocated import relocated

__getattr__ = relocated(__name__, "domainyours_eval.models.hf",
                        ["DTYPES", "HFModel", "load_causal_lm", "pick_device"])
