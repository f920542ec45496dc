"""Ingest: open a data pack on an engine (:mod:`opsnb.pack.engine`; in-process DuckDB by default).

>>> pack = open_pack("data/sample")            # folder of CSV/TSV/XLSX/Parquet, or a .duckdb file
>>> pack.table("orders")                         # an ibis Table (raises NoData when absent)
>>> pack.engine.tables(), pack.engine.columns("orders")
"""

from opsnb.pack.core import Pack, from_frames, open_pack, validate_pack
from opsnb.pack.derived import USER_KEY
from opsnb.pack.engine import Engine, EngineError, LocalEngine
from opsnb.pack.problems import PackProblem, format_problems
from opsnb.pack.schemas import SCHEMAS, TableSchema

__all__ = ["SCHEMAS", "USER_KEY", "Engine", "EngineError", "LocalEngine", "Pack", "PackProblem", "TableSchema",
           "format_problems", "from_frames", "open_pack", "validate_pack"]
