"""The benchmark's pandas peers compute the same numbers as opsnb (so the timing comparison is fair)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the benchmarks package lives at the repo root, beside opsnb
    sys.path.insert(0, str(ROOT))

import benchmarks as bm  # noqa: E402
from benchmarks import peers  # noqa: E402
from opsnb.pack import open_pack  # noqa: E402
from opsnb.params import load_params  # noqa: E402
from opsnb.periods import Period  # noqa: E402
from opsnb.sample import generate  # noqa: E402

PERIOD = Period.parse("2026-10")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("peers") / "pack"
    generate(out, seed=7, scale=0.05)
    return out


@pytest.fixture(scope="module")
def settings():
    return load_params(root=ROOT)


@pytest.fixture(scope="module")
def both(folder: Path, settings) -> dict[str, tuple[object, object]]:
    pack = open_pack(folder, tz=settings.timezone)
    return {name: (a.ours(bm.fresh(pack), PERIOD, settings), a.peer(folder, PERIOD, settings))
            for name, a in bm.ANALYSES.items()}


@pytest.mark.parametrize("name", list(bm.ANALYSES))
def test_peer_gives_identical_numbers(both, name):
    ours, peer = both[name]
    assert bm.ANALYSES[name].check(ours, peer) == []


def test_results_are_not_trivial(both):
    """Identity would prove little on empty results: every analysis found real activity."""
    ret = both["retention"][1]
    assert ret.loc[ret["period"] == 1, "users"].sum() > 0
    fun = both["funnel"][1]
    assert fun["users"].iloc[0] > fun["users"].iloc[-1] > 0
    rfm = both["rfm"][1]
    assert rfm["customers"].sum() > 100 and (rfm["customers"] > 0).sum() >= 5
    att = both["attribution"][1]
    assert att.attrs["attributed"] > 0 and att["markov"].sum() == pytest.approx(att.attrs["attributed"])
    an = both["anomalies"][1]
    assert an["dau"].notna().sum() > 150 and an["churn"].notna().sum() > 40
    k = both["kpis"][1].set_index("key")
    assert k.loc["gmv", "actual"] > 0 and k.loc["churn_rate", "actual"] is not None
    assert k.loc["retention_d30", "actual"] is not None and k.loc["gmv", "attainment"] is not None


def test_compare_catches_a_changed_number_a_missing_value_and_a_missing_row():
    a = pd.DataFrame({"k": ["x", "y"], "v": [1.0, 2.0], "s": ["a", "b"]})
    assert peers.compare(a, a.copy(), ["k"], ["v", "s"]) == []
    b = a.assign(v=[1.0, 2.0 + 1e-6])
    assert peers.compare(a, b, ["k"], ["v"]) == ["y v: ours 2.0 peer 2.000001"]
    assert peers.compare(a, a.assign(v=[1.0, None]), ["k"], ["v"]) == ["y v: ours 2.0 peer missing"]
    assert peers.compare(a.assign(v=[1.0, None]), a.assign(v=[1.0, float("nan")]), ["k"], ["v"]) == []
    assert peers.compare(a, a.assign(s=["a", "c"]), ["k"], ["s"]) == ["y s: ours 'b' peer 'c'"]
    assert peers.compare(a, a.iloc[:1], ["k"], ["v"])[0].startswith("rows differ")
    # within 1e-9 relative is equal (sums in another order differ in the last bits)
    assert peers.compare(a, a.assign(v=[1.0, 2.0 * (1 + 1e-12)]), ["k"], ["v"]) == []


def test_ntile_matches_sql_ntile():
    assert list(peers._ntile5(7)) == [1, 1, 2, 2, 3, 4, 5]
    assert list(peers._ntile5(10)) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert list(peers._ntile5(3)) == [1, 2, 3]


def test_fit_power_recovers_the_exponent():
    fit = bm.fit_power([1, 10, 100], [2.0, 2.0 * 10**1.5, 2.0 * 100**1.5])
    assert fit == {"a": 2.0, "b": 1.5}
    assert bm.fit_power([1], [3.0]) is None
    assert bm.fit_power([1, 10], [0.5, 5.0])["b"] == pytest.approx(1.0)


def test_summary_and_ratio():
    assert bm.summarize([3.0, 1.0, 2.0]) == {"min": 1.0, "median": 2.0, "runs": [3.0, 1.0, 2.0]}
    assert bm.ratio(3.0, 2.0) == 1.5
    assert bm.ratio(1.0, 0.0) is None and bm.ratio(None, 1.0) is None
    assert math.isclose(bm.ratio(10.0, 3.0), 3.33)
