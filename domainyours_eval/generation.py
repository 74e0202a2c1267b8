"""Former home of the model-under-test code, now ``domainyours_eval.models``."""

from ._relocated import relocated

__getattr__ = relocated(__name__, "domainyours_eval.models", [
    "MODEL_BACKENDS", "MODEL_PREFIXES", "CallableModel", "GenerativeModel", "canonical_model_spec",
    "domain_confidence", "generate", "is_batched", "is_model_spec", "load_model",
    "prompt_fingerprint", "split_model_spec"])
