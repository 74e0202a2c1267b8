"""The model-under-test role: which model, its answers, and the predictions file that keeps them.

``answers`` turns any model input (spec, model object, predictions file, list, callable) into
answers in test-set order; ``generate`` writes them to a resumable predictions file. API and local
models call their provider (``providers/``); their classes load only when their spec is used.
"""

from .answers import Answers, ModelInput, answers, as_model, can_generate, generate
from .predictions import (
    Prediction,
    domain_confidence,
    load_predictions,
    prompt_fingerprint,
    read_predictions,
)
from .specs import (
    MODEL_BACKENDS,
    MODEL_PREFIXES,
    CallableModel,
    GenerativeModel,
    canonical_model_spec,
    is_batched,
    is_model_spec,
    load_model,
    split_model_spec,
)

__all__ = [
    "MODEL_BACKENDS",
    "MODEL_PREFIXES",
    "Answers",
    "CallableModel",
    "GenerativeModel",
    "ModelInput",
    "Prediction",
    "answers",
    "as_model",
    "can_generate",
    "canonical_model_spec",
    "domain_confidence",
    "generate",
    "is_batched",
    "is_model_spec",
    "load_model",
    "load_predictions",
    "prompt_fingerprint",
    "read_predictions",
    "split_model_spec",
]
