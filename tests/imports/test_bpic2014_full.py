"""BPIC 2014, all four real files: Itsmo's figures agree with the raw files (slow, CI runs it).

The reference figures are the ones of ``test_bpic2014`` (csv module only, nothing shared
with ``itsmo.imports``), computed here over the whole files and the whole period.
"""

from __future__ import annotations

import gzip

import pytest

from itsmo.changes.models import Change
from itsmo.core.metrics import Slice
from itsmo.imports import bpic2014, metrics as import_metrics
from itsmo.imports.models import ServiceDeskContact
from itsmo.incidents import metrics
from itsmo.incidents.models import Incident

from .test_bpic2014 import (
    ACTIVITIES,
    DATA,
    NAMES,
    WHOLE,
    assert_agree,
    reference_change_figures,
    reference_figures,
    rows,
)


def whole_text(name: str) -> str:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"{path} is not there")
    with gzip.open(path, "rt", encoding="latin-1", newline="") as source:
        return source.read()


@pytest.mark.slow
@pytest.mark.django_db
def test_full_files_figures_agree_with_the_raw_files():
    # given the four whole real files (46,606 incidents, 147,004 interactions,
    # 18,000 changes on 30,275 rows, 466,660 activities), imported
    texts = {kind: whole_text(name) for kind, name in NAMES.items()}
    if not (DATA / ACTIVITIES).is_file():
        pytest.skip(f"{DATA / ACTIVITIES} is not there")
    report = bpic2014.import_directory(DATA, bpic2014.Options(index=False))
    assert report.committed and not report.errors
    incident_ids = {row["Incident ID"] for row in rows(texts["incidents"])}
    assert report.count("incidents").created == len(incident_ids) == 46_606
    assert report.count("service-desk contacts").created == 147_004
    assert report.count("incident activities").created > 0

    # when Itsmo computes the figures of the whole period with the metric functions
    period = Slice(*WHOLE)
    imported = Incident.objects.filter(external_source=bpic2014.SOURCE)
    ours = metrics.baseline_figures(period, imported)
    contacts = ServiceDeskContact.objects.filter(source=bpic2014.SOURCE)
    ours["fcr_share"] = import_metrics.share_first_call_resolution(period, contacts)
    changes = Change.objects.filter(import_record__source=bpic2014.SOURCE)
    ours_changes = import_metrics.change_figures(period, changes)

    # then every figure is the one computed straight from the raw rows
    theirs = reference_figures(texts, *WHOLE)
    assert theirs["distinct_incidents"] == 46_606
    assert_agree(ours, theirs)
    theirs_changes = reference_change_figures(texts["changes"], *WHOLE)
    assert theirs_changes["changes"] == 18_000
    assert ours_changes == theirs_changes
