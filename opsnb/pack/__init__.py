"""Ingest: open a data pack into an Ibis connection on in-process DuckDB.

>>> pack = open_pack("data/sample")            # folder of CSV/TSV/XLSX/Parquet, or a .duckdb file
>>> pack.table("orders")                         # an ibis Table (raises NoData when absent)
"""

from opsnb.pack.core import Pack, from_frames, open_pack, validate_pack
from opsnb.pack.derived import USER_KEY
from opsnb.pack.problems import PackProblem, format_problems
from opsnb.pack.schemas import SCHEMAS, TableSchema

__all__ = ["SCHEMAS", "USER_KEY", "Pack", "PackProblem", "TableSchema", "format_problems", "from_frames", "open_pack",
           "validate_pack"]
