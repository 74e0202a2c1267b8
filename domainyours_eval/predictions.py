"""Former home of the predictions reader, now ``domainyours_eval.models.predictions``."""

from ._relocated import relocated

__getattr__ = relocated(__name__, "domainyours_eval.models.predictions",
                        ["load_predictions", "read_predictions"])
