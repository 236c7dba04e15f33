from __future__ import annotations

import pytest

from loupe.search.admission import Admission
from loupe.search.errors import Overloaded, Unavailable
from loupe.search.index.base import CollectionNotFound, IndexUnavailable


def test_one_call_over_the_bound_is_refused_at_once() -> None:
    admission = Admission(1, retry_after=2.5)
    with admission.slot():
        assert admission.in_flight == 1
        with pytest.raises(Overloaded) as refused, admission.slot():
            pass
        assert refused.value.retry_after == 2.5
    assert admission.in_flight == 0
    with admission.slot():
        pass


@pytest.mark.parametrize("outage", [IndexUnavailable("down"), CollectionNotFound("gone")])
def test_index_outages_and_close_are_unavailable(outage: Exception) -> None:
    admission = Admission(2, retry_after=1.0)
    with pytest.raises(Unavailable), admission.slot():
        raise outage
    assert admission.in_flight == 0
    admission.close()
    admission.close()
    with pytest.raises(Unavailable), admission.slot():
        pass
