"""Write this repository's params/default.yaml, as the package generates it (:mod:`opsnb.workbook.defaults`).

Every setting, its default and its comment come from the Settings model (opsnb/params/): edit the
model, then rerun this script (tests/unit/test_params.py checks the file is exactly this). A team's
workbook gets its own copy from ``opsnb init`` and keeps it current with ``opsnb upgrade``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from opsnb.workbook.defaults import text


def main() -> int:
    path = Path(__file__).resolve().parents[1] / "params" / "default.yaml"
    path.write_text(text(), encoding="utf-8")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
