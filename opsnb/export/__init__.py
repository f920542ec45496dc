"""HTML export with our own nbconvert template (extends ``lab``): no code, no scripts, no network."""

from opsnb.export.exporter import export_html, notebook_problems

__all__ = ["export_html", "notebook_problems"]
