"""The one judge registry: spec strings (``backend`` or ``backend/model``) to judge classes.

Built-in loaders live here and import their backend only when asked for; third parties register
a judge through the ``domainyours_eval.judges`` entry-point group. A provider registered through
``domainyours_eval.providers`` with no judge of its own serves as an LLM judge under the fixed
prompt (``LLMJudge.from_spec``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._deps import require
from .._plugins import Registry
from ..errors import ConfigError, UnknownJudgeError
from .base import Judge, as_judge

__all__ = ["get_judge", "list_judges", "register_judge"]

ENTRY_POINT_GROUP = "domainyours_eval.judges"
_REGISTRY: Registry[Callable[..., Judge]] = Registry("judge", ENTRY_POINT_GROUP)
register_judge = _REGISTRY.register


@register_judge("reference")
def _reference() -> Callable[..., Judge]:
    from .reference import ReferenceJudge

    return ReferenceJudge


@register_judge("openai")
def _openai() -> Callable[..., Judge]:
    require("openai", extra="openai", feature="The OpenAI judge")
    from .openai import make_judge

    return make_judge


@register_judge("anthropic")
def _anthropic() -> Callable[..., Judge]:
    require("anthropic", extra="anthropic", feature="The Anthropic judge")
    from .anthropic import make_judge

    return make_judge


@register_judge("hf")
def _hf() -> Callable[..., Judge]:
    require("torch", extra="hf", feature="The local Hugging Face judge")
    require("transformers", extra="hf", feature="The local Hugging Face judge")
    from .hf import make_judge

    return make_judge


def list_judges() -> list[str]:
    """Names of every registered judge backend, built-in and plug-in."""
    return _REGISTRY.names()


def get_judge(spec: str | Judge | list[str], **options: Any) -> Judge:
    """Build a judge from a spec string like ``reference`` or ``backend/model``.

    Args:
        spec: The spec, a ready judge object (returned as is), or a list of specs: a panel
            (``JudgePanel``) whose members all get ``options``.
        **options: Passed to the backend's constructor.

    Raises:
        UnknownJudgeError: The backend is not registered; the message lists those that are.
    """
    if isinstance(spec, (list, tuple)):
        from .panel import JudgePanel

        return JudgePanel([get_judge(s, **options) for s in spec])
    if not isinstance(spec, str):
        try:
            return as_judge(spec)
        except TypeError:
            raise ConfigError(f"judge must be a spec string or a Judge, got "
                              f"{type(spec).__name__}") from None
    backend, _, model = spec.partition("/")
    loaders = _REGISTRY.loaders()
    if backend not in loaders and model:
        from ..providers import list_providers

        if backend in list_providers():
            # A provider with no judge of its own judges through the shared LLM judge.
            from .llm import LLMJudge

            return as_judge(LLMJudge.from_spec(spec, **options))
    if backend not in loaders:
        raise UnknownJudgeError(_REGISTRY.unknown(backend, spec))
    factory = loaders[backend]()
    if model:
        options = {"model": model, **options}
    return as_judge(factory(**options))
