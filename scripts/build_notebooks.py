"""Write this repository's six section notebooks, as the package generates them (:mod:`opsnb.workbook.notebooks`).

Run ``python scripts/build_notebooks.py`` after adding a subsection; the notebooks are committed
without outputs (``--no-explore``: without the explorer cells). A team's workbook gets the same
notebooks from ``opsnb init`` and keeps them current with ``opsnb upgrade`` (docs/workbook.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

from opsnb.workbook import notebooks
from opsnb.workbook.notebooks import build, text

__all__ = ["build", "main", "text"]  # build and text: what tests/notebooks/test_built.py and older callers use


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    for rel, body in notebooks.files(with_explore="--no-explore" not in sys.argv).items():
        (root / rel).write_text(body, encoding="utf-8")
        print(root / rel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
