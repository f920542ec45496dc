"""The engine parity tests compare engines on a small sample pack (:data:`tests.parity.PARITY_SCALE`); this
proves, on DuckDB, that the small pack exercises what the scale-0.1 pack does.

Query for query: every section asks the same queries at the same places in opsnb, in the same order; the
queries are made of the same Ibis operations and bring back the same result types; and every query that
brings back rows at 0.1 brings back rows on the small pack too (none is trivially empty there). So a
second engine that answers every query of the small pack as DuckDB does has been asked everything the
scale-0.1 review asks of it.
"""

from __future__ import annotations

import pytest

from opsnb.pack import open_pack
from opsnb.pack.derived import warm
from opsnb.sample import generate
from tests.parity import PARITY_PERIOD, PARITY_SCALE, SECTIONS, parity_pack, queries, shown

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("parity-pack")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict, dict, dict]]:
    """Per pack (``small``, ``0.1``): what each section shows, its usage with the query log, its features."""
    folders = {"small": parity_pack(tmp_path_factory.mktemp("parity") / "small"),
               "0.1": tmp_path_factory.mktemp("parity") / "sample"}
    generate(folders["0.1"], scale=0.1)
    out = {}
    for name, folder in folders.items():
        warm(open_pack(folder))  # both with their store built, as the batch has them before any section
        usage: dict = {}
        features: dict = {}
        out[name] = (shown(str(folder), PARITY_PERIOD, usage=usage, features=features), usage, features)
    return out


def test_the_small_pack_is_smaller(runs):
    assert PARITY_SCALE < 0.1
    _, small, _ = runs["small"]
    _, big, _ = runs["0.1"]
    assert sum(u["rows"] for u in small.values()) < sum(u["rows"] for u in big.values())


@pytest.mark.parametrize("section", SECTIONS)
def test_the_small_pack_asks_the_same_queries_in_the_same_order(runs, section):
    _, small, _ = runs["small"]
    _, big, _ = runs["0.1"]
    assert len(queries(big, section)) > 10
    assert queries(small, section) == queries(big, section)
    assert small[section]["queries"] == big[section]["queries"]


@pytest.mark.parametrize("section", SECTIONS)
def test_every_query_with_rows_at_0_1_has_rows_on_the_small_pack(runs, section):
    _, small, _ = runs["small"]
    _, big, _ = runs["0.1"]
    empty = [(i, b["at"]) for i, (s, b) in enumerate(zip(small[section]["log"], big[section]["log"], strict=True))
             if b["rows"] > 0 and s["rows"] == 0]
    assert empty == []


@pytest.mark.parametrize("section", SECTIONS)
def test_the_small_pack_uses_the_same_operations_and_types(runs, section):
    _, _, small = runs["small"]
    _, _, big = runs["0.1"]
    assert any(f.startswith("op:") for f in big[section]) and any(f.startswith("type:") for f in big[section])
    assert small[section] == big[section]


@pytest.mark.parametrize("section", SECTIONS)
def test_the_small_pack_shows_as_many_objects(runs, section):
    small, _, _ = runs["small"]
    big, _, _ = runs["0.1"]
    assert len(small[section]) == len(big[section]) > 5

