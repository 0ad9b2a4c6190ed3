from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from auth.domain import Profile
from auth.errors import ConcurrentUpdate
from auth.store import DynamoProfileRepository

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def repository(cloud) -> DynamoProfileRepository:
    return DynamoProfileRepository(cloud.ref("AuthTable"))


def test_a_profile_round_trips(repository: DynamoProfileRepository) -> None:
    user_id = str(uuid.uuid4())
    stored = repository.save(Profile.register(user_id, "ada@example.com", T0))
    assert stored.version == 1
    assert repository.get(user_id) == stored
    assert repository.get(str(uuid.uuid4())) is None


def test_a_stale_write_is_refused(repository: DynamoProfileRepository) -> None:
    user_id = str(uuid.uuid4())
    first = repository.save(Profile.register(user_id, "ada@example.com", T0))
    confirmed = repository.save(first.confirm(T0 + timedelta(minutes=1)))
    assert confirmed.version == 2
    with pytest.raises(ConcurrentUpdate):
        repository.save(replace(first, email="mallory@example.com"))
    with pytest.raises(ConcurrentUpdate):  # a second "new" profile for the same user
        repository.save(Profile.register(user_id, "eve@example.com", T0))
    assert repository.get(user_id) == confirmed
