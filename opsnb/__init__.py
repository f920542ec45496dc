"""opsnb: an operations-review workbook (运营复盘) built on Jupyter, papermill and Ibis."""

__version__ = "0.1.0"
