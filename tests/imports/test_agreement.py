"""The figures Itsmo computes after an import agree with a computation from the raw file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from itsmo.core.metrics import Slice
from itsmo.imports import servicenow
from itsmo.incidents import metrics
from itsmo.incidents.models import Incident

from .conftest import ZONE, reference_figures, require_data

WHOLE = (datetime(2016, 1, 1, tzinfo=UTC), datetime(2018, 1, 1, tzinfo=UTC))
ONE_MONTH = (datetime(2016, 3, 1, tzinfo=UTC), datetime(2016, 4, 1, tzinfo=UTC))


def assert_agree(ours: dict, theirs: dict) -> None:
    for name, expected in theirs.items():
        value = ours[name]
        if isinstance(expected, float):
            assert value == pytest.approx(expected, abs=1e-9), name
        else:
            assert value == expected, name


@pytest.mark.django_db
@pytest.mark.parametrize("period", [WHOLE, ONE_MONTH], ids=["whole", "march-2016"])
def test_figures_agree_with_the_raw_file(subset_file, subset_text, period):
    # given the first incidents of the real log, imported
    report = servicenow.import_events(subset_file, servicenow.Options(index=False))
    assert report.committed and not report.errors

    # when Itsmo computes the figures with the incidents' metric functions
    imported = Incident.objects.filter(external_source=servicenow.SOURCE)
    ours = metrics.baseline_figures(Slice(*period), imported)

    # then they are the ones computed straight from the raw rows
    theirs = reference_figures(subset_text, *period, ZONE)
    assert theirs["distinct_incidents"] > 0
    assert_agree(ours, theirs)


@pytest.mark.slow
@pytest.mark.django_db
def test_full_file_figures_agree_and_reimport_skips_everything():
    # given the whole real log (141,712 events, 24,918 incidents), imported
    path = require_data()
    report = servicenow.import_events(path, servicenow.Options(index=False))
    assert report.committed and not report.errors
    assert report.rows == 141_712
    assert report.count("incidents").created == 24_918

    # when Itsmo computes the figures of the whole period
    imported = Incident.objects.filter(external_source=servicenow.SOURCE)
    ours = metrics.baseline_figures(Slice(*WHOLE), imported)

    # then they agree with the raw file, and a second run changes nothing
    assert_agree(ours, reference_figures(path, *WHOLE, ZONE))
    assert ours["distinct_incidents"] == 24_918
    again = servicenow.import_events(path, servicenow.Options(index=False))
    assert again.count("incidents").skipped == 24_918
    assert Incident.objects.count() == 24_918
