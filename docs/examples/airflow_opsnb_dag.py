"""Airflow: the monthly opsnb review (see docs/scheduling.md).

Two DAGs, pick one:

* ``opsnb_monthly_review`` runs ``--period last-month`` at 00:05 on the 1st, Shanghai time: opsnb resolves
  "last month" in each unit's own time zone at the moment of the run. Simple; not for backfills (a rerun
  next month would review the wrong month), hence ``catchup=False``.
* ``opsnb_monthly_review_by_interval`` passes the month of the run's data interval explicitly, so a
  cleared task or ``airflow dags backfill -s 2026-01-01 -e 2026-06-30 opsnb_monthly_review_by_interval``
  reviews exactly the months it covers. ``data_interval_start`` is in UTC: convert it to the unit's time
  zone before taking the month (2026-10-01 00:05 in Shanghai is 2026-09-30 16:05 UTC).

Exit codes of ``opsnb run`` (any non-zero fails the task): 1 a section failed (the rest published; fix
and clear the task: unchanged sections are reused), 2 bad params or pack (nothing ran), 3 another run
holds the output (only with ``--no-wait``: retry later), 4 published but delivery failed (resend with
``opsnb notify --period <YYYY-MM>``, do not rerun the review).

Written for Airflow 2.x (the tests only compile this file); on Airflow 3 import BashOperator from
``airflow.providers.standard.operators.bash``.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

TZ = "Asia/Shanghai"
OPSNB = "/srv/opsnb/.venv/bin/opsnb"
ENV = {"OPSNB_HOME": "/srv/opsnb", "MPLBACKEND": "Agg"}

default_args = {
    "owner": "ops",
    "retries": 0,  # a failed review needs a person (exit 1/2); see the docstring for 3 and 4
    "execution_timeout": timedelta(hours=4),
}

with DAG(
    dag_id="opsnb_monthly_review",
    description="opsnb: review last month for every unit",
    schedule="5 0 1 * *",  # 00:05 on the 1st, in the DAG's time zone (that of start_date)
    start_date=pendulum.datetime(2026, 1, 1, tz=TZ),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["opsnb"],
) as monthly:
    BashOperator(
        task_id="review_last_month",
        bash_command=f"cd /srv/opsnb && {OPSNB} run --units all --period last-month --quiet",
        env=ENV,
        append_env=True,
    )

with DAG(
    dag_id="opsnb_monthly_review_by_interval",
    description="opsnb: review the month of the data interval (backfill-safe)",
    schedule="5 0 1 * *",
    start_date=pendulum.datetime(2026, 1, 1, tz=TZ),
    catchup=False,  # backfill on purpose, with `airflow dags backfill`
    max_active_runs=1,
    default_args=default_args,
    tags=["opsnb"],
) as by_interval:
    BashOperator(
        task_id="review_interval_month",
        # a Jinja template (not an f-string: its braces are Airflow's)
        bash_command=(
            "cd /srv/opsnb && " + OPSNB + " run --units all --quiet "
            "--period {{ data_interval_start.in_timezone('Asia/Shanghai').strftime('%Y-%m') }}"
        ),
        env=ENV,
        append_env=True,
    )
