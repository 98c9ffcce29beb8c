"""`simulate city` against the database: what it writes, and that lookups find it."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from fangkong.audit.models import AuditEntry
from fangkong.core.idnumbers import validate_document
from fangkong.core.phones import normalise_mobile
from fangkong.jurisdictions.models import CODE_LENGTH, Jurisdiction, Level, Post
from fangkong.people import protect
from fangkong.people.models import Household, Person
from fangkong.places.models import Place, PlaceKind, Room
from fangkong.simulation.city import city_generate

pytestmark = pytest.mark.django_db


@pytest.fixture
def city() -> dict[str, Any]:
    return city_generate(population=3000, seed=11, chunk_size=1000)


def test_city_writes_the_requested_population(city: dict[str, Any]) -> None:
    assert Person.objects.count() == city["persons"] == 3000
    assert Household.objects.count() == city["households"]
    assert Household.objects.aggregate(n=Sum("size"))["n"] == 3000


def test_jurisdiction_codes_and_paths_are_consistent(city: dict[str, Any]) -> None:
    nodes = {j.id: j for j in Jurisdiction.objects.all()}
    assert {j.level for j in nodes.values()} == set(Level.values)
    for j in nodes.values():
        assert len(j.code) == CODE_LENGTH[Level(j.level)]
        if j.parent_id is None:
            assert j.path == f"/{j.code}/"
        else:
            parent = nodes[j.parent_id]
            assert j.code.startswith(parent.code)
            assert j.path == f"{parent.path}{j.code}/"


def test_population_aggregates_equal_actual_counts(city: dict[str, Any]) -> None:
    persons = dict(
        Person.objects.values_list("grid_id").annotate(n=Count("id")).values_list("grid_id", "n")
    )
    households = dict(
        Household.objects.values_list("grid_id").annotate(n=Count("id")).values_list("grid_id", "n")
    )
    for j in Jurisdiction.objects.all():
        if j.level == Level.GRID:
            assert j.population == persons.get(j.id, 0)
            assert j.households == households.get(j.id, 0)
        else:
            assert (
                j.population == Person.objects.filter(jurisdiction_path__startswith=j.path).count()
            )
            assert (
                j.households
                == Household.objects.filter(jurisdiction_path__startswith=j.path).count()
            )


def test_persons_are_valid_and_live_in_their_household_grid(city: dict[str, Any]) -> None:
    phones = []
    for p in Person.objects.select_related("household", "grid"):
        facts = validate_document(p.doc_type, p.doc_number)
        if facts.birth_date is not None:
            assert facts.birth_date == p.birth_date
            assert facts.sex == p.sex
        assert p.household is not None
        assert p.grid is not None
        assert p.household.grid_id == p.grid_id
        assert p.address == p.household.address
        assert p.jurisdiction_path == p.grid.path
        assert p.doc_bidx == protect.doc_index(p.doc_number)
        if p.phone:
            assert normalise_mobile(p.phone) == p.phone
            assert p.phone_bidx == protect.phone_index(p.phone)
            phones.append(p.phone)
    assert len(phones) == len(set(phones))
    assert len(phones) > 2000


def test_a_generated_person_is_found_by_the_blind_indexes(city: dict[str, Any]) -> None:
    person = Person.objects.exclude(phone_bidx="").order_by("-id").first()
    assert person is not None
    by_doc = Person.objects.filter(
        doc_bidx=protect.doc_index(person.doc_number), merged_into__isnull=True
    ).first()
    assert by_doc == person
    assert Person.objects.filter(phone_bidx=protect.phone_index(person.phone)).get() == person
    assert person in Person.objects.filter(name_bidx=protect.name_index(person.name))


def test_places_of_every_kind_exist_and_facilities_have_rooms(city: dict[str, Any]) -> None:
    assert set(Place.objects.values_list("kind", flat=True)) == set(PlaceKind.values)
    for facility in Place.objects.filter(kind=PlaceKind.QUARANTINE_FACILITY):
        rooms = Room.objects.filter(facility=facility)
        assert rooms.exists()
        assert all(r.jurisdiction_path == facility.jurisdiction_path for r in rooms)
    place = Place.objects.order_by("id").first()
    assert place is not None
    assert normalise_mobile(place.responsible_phone) == place.responsible_phone


def test_every_node_has_its_post(city: dict[str, Any]) -> None:
    without = Jurisdiction.objects.exclude(
        id__in=Post.objects.filter(is_primary=True).values("jurisdiction_id")
    )
    assert not without.exists()
    assert Post.objects.filter(kind=Post.Kind.BUILDING_LEADER).exists()


def test_one_audit_entry_summarises_the_run(city: dict[str, Any]) -> None:
    entries = AuditEntry.objects.filter(action="simulation.city_generate")
    assert entries.count() == 1
    entry = entries.get()
    assert entry.actor_kind == "system"
    assert entry.detail["persons"] == 3000
    assert AuditEntry.objects.count() == 1


def test_a_second_city_is_refused_without_replace(city: dict[str, Any]) -> None:
    with pytest.raises(CommandError, match="--replace"):
        call_command("simulate", "city", "--population", "500", stdout=StringIO())
    assert Person.objects.count() == 3000


def test_replace_deletes_the_previous_city(city: dict[str, Any]) -> None:
    out = StringIO()
    call_command("simulate", "city", "--population", "800", "--seed", "12", "--replace", stdout=out)
    assert "800 persons" in out.getvalue()
    assert Person.objects.count() == 800
    assert Jurisdiction.objects.filter(level=Level.CITY).count() == 1
    assert Jurisdiction.objects.get(level=Level.CITY).population == 800
    assert not Room.objects.exclude(facility__in=Place.objects.all()).exists()


def test_ids_continue_after_a_bulk_load(city: dict[str, Any]) -> None:
    from django.utils import timezone

    household = Household.objects.order_by("-id").first()
    assert household is not None
    extra = Household.objects.create(
        code="H-extra", grid_id=household.grid_id, jurisdiction_path=household.jurisdiction_path
    )
    assert extra.pk > household.pk
    person = Person.objects.create(
        doc_type="passport", doc_number="X1234567", doc_bidx="x", name="A", name_bidx="a",
        jurisdiction_path="/", created_at=timezone.now(), updated_at=timezone.now(),
    )  # fmt: skip
    assert person.pk > 3000


@pytest.mark.parametrize(
    ("model", "fields"), [(Person, "PERSON_FIELDS"), (Household, "HOUSEHOLD_FIELDS")]
)
def test_bulk_rows_cover_every_column(model: type[Person | Household], fields: str) -> None:
    """The bulk writer bypasses the ORM: a new column must be added to its row too
    (fangkong/simulation/population.py), or the insert fails or leaves it unset."""
    from fangkong.simulation import population

    assert set(getattr(population, fields)) == {f.name for f in model._meta.concrete_fields}


def test_aggregates_agree_with_the_jurisdictions_refresh(city: dict[str, Any]) -> None:
    from fangkong.core.actor import system_actor
    from fangkong.jurisdictions.services import population_refresh

    written = dict(Jurisdiction.objects.values_list("code", "population"))
    households = dict(Jurisdiction.objects.values_list("code", "households"))
    population_refresh(actor=system_actor("test"))
    assert dict(Jurisdiction.objects.values_list("code", "population")) == written
    assert dict(Jurisdiction.objects.values_list("code", "households")) == households
