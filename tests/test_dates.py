"""One ISO 8601 reading (keyring.clock.parse_instant) behind the test clock (tests/kmscli_at.py), the dates
stored in key files and the timestamps import-key-material takes."""

import datetime as dt

import pytest

from kmscli.errors import KeyringDamagedException, ValidationException
from kmscli.keyring.clock import parse_instant
from kmscli.service.importing import parse_timestamp
from kmscli.service.keydoc import parse_date

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2027-01-31T12:00:00", dt.datetime(2027, 1, 31, 12, tzinfo=UTC)),
        ("2027-01-31T12:00:00Z", dt.datetime(2027, 1, 31, 12, tzinfo=UTC)),
        ("2027-01-31T14:00:00+02:00", dt.datetime(2027, 1, 31, 12, tzinfo=UTC)),
    ],
)
def test_every_reader_takes_a_date_without_a_zone_as_utc(text, expected):
    assert parse_instant(text) == parse_date(text, "d") == parse_timestamp(text, "t") == expected
    assert parse_instant(text).tzinfo is not None


def test_each_reader_keeps_its_own_error():
    with pytest.raises(ValueError):
        parse_instant("soon")
    with pytest.raises(KeyringDamagedException, match="^the date is not an ISO 8601 date$"):
        parse_date("soon", "the date")
    with pytest.raises(KeyringDamagedException):
        parse_date(None, "the date")
    with pytest.raises(ValidationException, match="is not a timestamp"):
        parse_timestamp("soon", "ValidTo")


def test_timestamps_also_take_a_lower_case_z_epoch_seconds_and_naive_datetimes():
    noon = dt.datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert parse_timestamp("2027-01-31T12:00:00z", "t") == noon
    assert parse_timestamp(str(noon.timestamp()), "t") == noon
    assert parse_timestamp(dt.datetime(2027, 1, 31, 12), "t") == noon
