import pytest

from conftest import Tree
from fangkong.core.scope import Scope, prefix_upper_bound, within
from fangkong.jurisdictions.models import Jurisdiction


def test_prefix_upper_bound_is_above_every_extension() -> None:
    upper = prefix_upper_bound("/4409/440902/")
    assert upper > "/4409/440902/440902001/"
    assert upper <= "/4409/4409021/" or not "/4409/4409021/".startswith("/4409/440902/")


@pytest.mark.django_db
def test_within_keeps_only_the_subtree(two_districts: Tree) -> None:
    scope = Scope(paths=(two_districts.district_a.path,))
    codes = set(
        within(Jurisdiction.objects.all(), scope, field_name="path").values_list("code", flat=True)
    )
    assert "440902001001001001" in codes
    assert "440903" not in codes
    assert "440903001001001001" not in codes
    assert "4409" not in codes


@pytest.mark.django_db
def test_empty_scope_sees_nothing_and_system_sees_all(two_districts: Tree) -> None:
    assert not within(Jurisdiction.objects.all(), Scope.empty(), field_name="path").exists()
    assert within(Jurisdiction.objects.all(), Scope.system(), field_name="path").count() == 12
