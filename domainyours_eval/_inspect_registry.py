"""What inspect_ai's entry point loads.

Importing the task module registers its task, scorer and metric under this package's name
(``inspect eval domainyours_eval/domainyours``).
"""

from .tasks.inspect_task import domainyours, domainyours_scorer, protocol_metrics

__all__ = ["domainyours", "domainyours_scorer", "protocol_metrics"]
