"""The fake Seam server, driven through Seam's official Python SDK (`seam` on PyPI).

Starts nothing itself: point it at a running fake with FAKE_SEAM_URL (e.g. http://127.0.0.1:8123) and
SEAM_API_KEY (a key the fake accepts; `latchkey fake-seam` accepts `seam_test_key` by default).
`scripts/sdk-test` builds latchkey, starts the fake on a free port and runs this file.

The fake must use its built-in default seed and a manual clock or a system clock: the tests move the
clock only forward through POST /_fake/clock.
"""

import os
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from seam import Seam
from seam.exceptions import (
    SeamHttpApiError,
    SeamHttpInvalidInputError,
    SeamHttpUnauthorizedError,
)

FAKE_SEAM_URL = os.environ.get("FAKE_SEAM_URL", "")
SEAM_API_KEY = os.environ.get("SEAM_API_KEY", "seam_test_key")

# Device ids of FakeSeamSeed.defaultSeed.
FRONT_DOOR = "11111111-1111-4111-8111-000000000001"  # August, 4-8 digits
BACK_DOOR = "11111111-1111-4111-8111-000000000002"  # Yale, 4-8 digits
GARAGE = "11111111-1111-4111-8111-000000000003"  # Schlage, exactly 4 digits
SHED = "11111111-1111-4111-8111-000000000004"  # offline
POOL_GATE = "11111111-1111-4111-8111-000000000005"  # cannot share a PIN, 6 digits

pytestmark = pytest.mark.skipif(not FAKE_SEAM_URL, reason="FAKE_SEAM_URL is not set")


def control(path, body=None):
    """Calls a /_fake control route and returns its JSON."""
    response = httpx.post(FAKE_SEAM_URL + path, json=body or {}, timeout=10)
    response.raise_for_status()
    return response.json()


def fake_now():
    """The fake's clock, to the whole second."""
    now = httpx.get(FAKE_SEAM_URL + "/_fake/state", timeout=10).json()["now"]
    return parse(now).replace(microsecond=0)


def iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def seam():
    control("/_fake/reset")
    control("/_fake/faults", {})
    return Seam(api_key=SEAM_API_KEY, endpoint=FAKE_SEAM_URL)


def test_devices_list_and_get_show_the_seeded_locks(seam):
    devices = seam.devices.list()
    assert {d.device_id for d in devices} == {FRONT_DOOR, BACK_DOOR, GARAGE, SHED, POOL_GATE}
    garage = seam.devices.get(device_id=GARAGE)
    assert garage.device_type == "schlage_lock"
    assert garage.properties.supported_code_lengths == [4]
    assert seam.devices.get(device_id=SHED).properties.online is False


def test_create_multiple_links_one_pin_across_devices(seam):
    start = fake_now() + timedelta(days=1)
    codes = seam.access_codes.create_multiple(
        device_ids=[FRONT_DOOR, BACK_DOOR],
        name="Jane's reservation",
        starts_at=iso(start),
        ends_at=iso(start + timedelta(days=2)),
        preferred_code_length=6,
    )
    assert [c.device_id for c in codes] == [FRONT_DOOR, BACK_DOOR]
    assert len({c.code for c in codes}) == 1
    assert len(codes[0].code) == 6
    key = codes[0].common_code_key
    assert key.startswith("auto_set_by_create_multiple_")
    assert codes[1].common_code_key == key
    assert all(c.type == "time_bound" and c.name == "Jane's reservation" for c in codes)


def test_create_multiple_falls_back_to_a_length_every_device_supports(seam):
    codes = seam.access_codes.create_multiple(device_ids=[FRONT_DOOR, GARAGE], preferred_code_length=6)
    assert len(codes[0].code) == 4
    assert codes[0].code == codes[1].code


def test_create_multiple_throws_by_default_when_a_device_cannot_share(seam):
    with pytest.raises(SeamHttpApiError) as error:
        seam.access_codes.create_multiple(device_ids=[FRONT_DOOR, POOL_GATE])
    assert error.value.code == "cannot_share_code"
    assert error.value.status_code == 400
    assert error.value.request_id
    assert seam.access_codes.list(device_id=FRONT_DOOR) == []


def test_create_random_code_gives_the_unshareable_device_its_own_pin(seam):
    codes = seam.access_codes.create_multiple(
        device_ids=[FRONT_DOOR, BACK_DOOR, POOL_GATE],
        behavior_when_code_cannot_be_shared="create_random_code",
        preferred_code_length=4,
    )
    assert codes[0].code == codes[1].code
    assert codes[2].code != codes[0].code
    assert len(codes[2].code) == 6
    assert codes[2].common_code_key is None


def test_custom_code_is_shared_without_a_common_code_key(seam):
    codes = seam.access_codes.create_multiple(device_ids=[FRONT_DOOR, BACK_DOOR], code="4821")
    assert [c.code for c in codes] == ["4821", "4821"]
    assert all(c.common_code_key is None for c in codes)


def test_update_multiple_moves_the_window_of_the_whole_group(seam):
    start = fake_now() + timedelta(days=1)
    codes = seam.access_codes.create_multiple(
        device_ids=[FRONT_DOOR, BACK_DOOR, GARAGE], starts_at=iso(start), ends_at=iso(start + timedelta(days=1))
    )
    new_start, new_end = start - timedelta(hours=3), start + timedelta(days=2)
    assert seam.access_codes.update_multiple(
        common_code_key=codes[0].common_code_key, starts_at=iso(new_start), ends_at=iso(new_end), name="Late checkout"
    ) is None
    for code in seam.access_codes.list(access_code_ids=[c.access_code_id for c in codes]):
        assert parse(code.starts_at) == new_start
        assert parse(code.ends_at) == new_end
        assert code.name == "Late checkout"
        assert code.code == codes[0].code


def test_single_create_update_get_and_list(seam):
    created = seam.access_codes.create(device_id=GARAGE, name="Cleaner", code="5931")
    assert created.code == "5931"
    assert created.common_code_key is None
    assert created.type == "ongoing"
    assert seam.access_codes.update(access_code_id=created.access_code_id, name="Cleaner (Tue)", code="6042") is None
    fetched = seam.access_codes.get(access_code_id=created.access_code_id)
    assert (fetched.name, fetched.code) == ("Cleaner (Tue)", "6042")
    by_pin = seam.access_codes.get(device_id=GARAGE, code="6042")
    assert by_pin.access_code_id == created.access_code_id
    assert [c.access_code_id for c in seam.access_codes.list(device_id=GARAGE)] == [created.access_code_id]


def test_codes_go_from_setting_to_set_on_the_fakes_clock(seam):
    code = seam.access_codes.create_multiple(device_ids=[FRONT_DOOR])[0]
    assert code.status == "setting"
    control("/_fake/clock", {"advance_seconds": 10})
    assert seam.access_codes.get(access_code_id=code.access_code_id).status == "set"


def test_code_on_an_offline_lock_reports_seams_errors(seam):
    code = seam.access_codes.create(device_id=SHED)
    control("/_fake/clock", {"advance_seconds": 10})
    errors = seam.access_codes.get(access_code_id=code.access_code_id).errors
    assert [e.error_code for e in errors] == ["failed_to_set_on_device", "device_offline"]


def test_delete_removes_then_the_code_is_gone(seam):
    codes = seam.access_codes.create_multiple(device_ids=[FRONT_DOOR, BACK_DOOR])
    for code in codes:
        assert seam.access_codes.delete(access_code_id=code.access_code_id) is None
    assert seam.access_codes.get(access_code_id=codes[0].access_code_id).status == "removing"
    control("/_fake/clock", {"advance_seconds": 10})
    with pytest.raises(SeamHttpApiError) as error:
        seam.access_codes.get(access_code_id=codes[0].access_code_id)
    assert error.value.status_code == 404
    assert error.value.code == "access_code_not_found"
    assert seam.access_codes.list(device_id=FRONT_DOOR) == []


def test_list_pages_with_the_sdk_paginator(seam):
    for _ in range(5):
        seam.access_codes.create_multiple(device_ids=[BACK_DOOR])
    first = seam.access_codes.list(device_id=BACK_DOOR, limit=2)
    assert len(first) == 2
    assert first.pagination["has_next_page"] is True
    paginator = seam.create_paginator(seam.access_codes.list, {"device_id": BACK_DOOR, "limit": 2})
    assert len({c.access_code_id for c in paginator.flatten_to_list()}) == 5


def test_invalid_input_becomes_the_sdks_invalid_input_error(seam):
    with pytest.raises(SeamHttpInvalidInputError) as error:
        seam.access_codes.create(device_id=FRONT_DOOR, code="12ab")
    assert error.value.get_validation_error_messages("code")


def test_wrong_api_key_is_unauthorized():
    with pytest.raises(SeamHttpUnauthorizedError):
        Seam(api_key="seam_wrong_key", endpoint=FAKE_SEAM_URL).devices.list()


def test_sdk_retries_an_injected_503_on_idempotent_verbs(seam):
    control("/_fake/faults", {"scripted": [{"kind": "server_error", "route": "/access_codes/create_multiple"}]})
    codes = seam.access_codes.create_multiple(device_ids=[FRONT_DOOR])  # PUT: the SDK retries it
    assert len(codes) == 1
    assert len(seam.access_codes.list(device_id=FRONT_DOOR)) == 1


def test_sdk_retries_an_injected_429_after_retry_after(seam):
    control("/_fake/faults", {"retry_after_seconds": 1, "scripted": [{"kind": "rate_limit", "route": "/access_codes/list"}]})
    seam.access_codes.create_multiple(device_ids=[GARAGE])
    assert len(seam.access_codes.list(device_id=GARAGE)) == 1  # GET: retried after Retry-After


def test_post_is_not_retried_so_the_injected_error_reaches_the_caller(seam):
    control("/_fake/faults", {"scripted": [{"kind": "server_error", "route": "/access_codes/create"}]})
    with pytest.raises(SeamHttpApiError) as error:
        seam.access_codes.create(device_id=FRONT_DOOR)
    assert error.value.status_code == 503
    assert error.value.code == "service_unavailable"
    assert seam.access_codes.list(device_id=FRONT_DOOR) == []


def test_seams_per_device_create_limit_answers_429(seam):
    for _ in range(10):
        seam.access_codes.create(device_id=BACK_DOOR)
    with pytest.raises(SeamHttpApiError) as error:
        seam.access_codes.create(device_id=BACK_DOOR)  # POST: not retried
    assert error.value.status_code == 429
    assert error.value.code == "rate_limit_exceeded"
    control("/_fake/clock", {"advance_seconds": 60})
    assert seam.access_codes.create(device_id=BACK_DOOR).device_id == BACK_DOOR


def test_backup_code_pulled_for_a_code_failing_on_an_offline_lock(seam):
    start = fake_now() + timedelta(hours=1)
    code = seam.access_codes.create(
        device_id=SHED, name="Stay", starts_at=iso(start), ends_at=iso(start + timedelta(days=2)),
        use_backup_access_code_pool=True)
    assert code.is_backup_access_code_available is True
    control("/_fake/clock", {"advance_seconds": 10})
    failing = seam.access_codes.get(access_code_id=code.access_code_id)
    assert [e.error_code for e in failing.errors] == ["failed_to_set_on_device", "device_offline"]
    original = seam.access_codes.pull_backup_access_code(access_code_id=code.access_code_id)
    assert original.access_code_id == code.access_code_id
    assert original.is_backup_access_code_available is False
    backup_id = original.pulled_backup_access_code_id
    again = seam.access_codes.pull_backup_access_code(access_code_id=code.access_code_id)
    assert again.pulled_backup_access_code_id == backup_id
    backup = seam.access_codes.get(access_code_id=backup_id)
    assert (backup.is_backup, backup.status, backup.device_id) == (True, "set", SHED)
    assert parse(backup.ends_at) == start + timedelta(days=2)
    assert backup.code != failing.code
    pulled = seam.events.list(since="2000-01-01T00:00:00.000Z", event_type="access_code.backup_access_code_pulled")
    assert [e.access_code_id for e in pulled] == [code.access_code_id]


def test_no_backup_code_without_the_pool_or_for_an_ongoing_code(seam):
    start = fake_now() + timedelta(hours=1)
    plain = seam.access_codes.create(device_id=FRONT_DOOR, starts_at=iso(start), ends_at=iso(start + timedelta(days=1)))
    assert plain.is_backup_access_code_available is False
    with pytest.raises(SeamHttpApiError) as refused:
        seam.access_codes.pull_backup_access_code(access_code_id=plain.access_code_id)
    assert refused.value.code == "backup_access_code_pool_not_enabled"
    ongoing = seam.access_codes.create(device_id=FRONT_DOOR, use_backup_access_code_pool=True)
    with pytest.raises(SeamHttpApiError) as refused:
        seam.access_codes.pull_backup_access_code(access_code_id=ongoing.access_code_id)
    assert refused.value.code == "access_code_not_time_bound"


def test_a_far_off_code_is_unset_then_preloaded_72_hours_ahead_then_set(seam):
    start = fake_now() + timedelta(days=4)
    code = seam.access_codes.create_multiple(
        device_ids=[FRONT_DOOR], starts_at=iso(start), ends_at=iso(start + timedelta(days=1)))[0]
    control("/_fake/clock", {"advance_seconds": 3600})
    waiting = seam.access_codes.get(access_code_id=code.access_code_id)
    assert (waiting.status, waiting.is_scheduled_on_device) == ("unset", False)
    control("/_fake/clock", {"advance_seconds": 86400 - 3600 + 2})  # 72 h ahead: being programmed
    assert seam.access_codes.get(access_code_id=code.access_code_id).status == "setting"
    control("/_fake/clock", {"advance_seconds": 10})
    scheduled = seam.access_codes.get(access_code_id=code.access_code_id)
    assert (scheduled.status, scheduled.is_scheduled_on_device) == ("unset", True)
    control("/_fake/clock", {"advance_seconds": 3 * 86400})
    assert seam.access_codes.get(access_code_id=code.access_code_id).status == "set"


def test_single_update_of_the_window_emits_time_frame_changed(seam):
    start = fake_now() + timedelta(hours=2)
    code = seam.access_codes.create(device_id=BACK_DOOR, starts_at=iso(start), ends_at=iso(start + timedelta(days=1)))
    seam.access_codes.update(
        access_code_id=code.access_code_id, starts_at=iso(start), ends_at=iso(start + timedelta(days=2)))
    changed = seam.events.list(since="2000-01-01T00:00:00.000Z", event_type="access_code.time_frame_changed")
    assert [e.access_code_id for e in changed] == [code.access_code_id]
