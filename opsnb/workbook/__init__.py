"""A team's workbook: ``opsnb init`` makes one, ``opsnb upgrade`` keeps its generated files current (docs/onboarding.md).

The rooms: ``defaults`` (``params/default.yaml`` from the Settings model) and ``notebooks`` (the six section
notebooks), which this repository's scripts call too; ``generated`` (what opsnb generates in a workbook and
its record of it, ``.opsnb/``); ``init`` (``opsnb init``); ``upgrade`` (``opsnb upgrade [--check]``).
"""

from opsnb.workbook.init import InitResult, init_workbook
from opsnb.workbook.upgrade import FileUpgrade, apply, pending, plan

__all__ = ["FileUpgrade", "InitResult", "apply", "init_workbook", "pending", "plan"]
