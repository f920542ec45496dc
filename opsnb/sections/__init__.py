"""Section view modules and the subsection registry (looked up by key, imported lazily)."""

from __future__ import annotations

from importlib import import_module

from opsnb.sections.base import Subsection

#: section → modules holding its subsections
MODULES: dict[str, tuple[str, ...]] = {
    "summary": ("summary",),
    "goals": ("goals",),
    "campaigns": ("campaigns",),
    "insights": ("insights_activity", "insights_cohorts", "insights_funnel", "insights_customers"),
    "problems": ("problems",),
    "plan": ("plan",),
}


def subsections(section: str) -> list[Subsection]:
    """Every subsection of ``section``, in module order."""
    if section not in MODULES:
        raise KeyError(f"unknown section {section!r}; known: {sorted(MODULES)}")
    out: list[Subsection] = []
    for mod in MODULES[section]:
        out += list(getattr(import_module(f"opsnb.sections.{mod}"), "SUBSECTIONS", []))
    return out


def get(key: str) -> Subsection:
    """The subsection registered under ``key`` (e.g. ``goals.attainment``)."""
    section = key.split(".", 1)[0]
    subs = subsections(section)
    for s in subs:
        if s.key == key:
            return s
    raise KeyError(f"unknown subsection {key!r}; known in {section}: {[s.key for s in subs]}")


__all__ = ["MODULES", "Subsection", "get", "subsections"]
