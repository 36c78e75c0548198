#!/usr/bin/env python3
"""Writes the replay scenarios of Tests/Scenarios/<pms>/*.yaml from one booking model.

Each scenario is a series of deliveries in the PMS's own body shape (see
shared/reference/pms-webhooks.md §1.1-1.5 and §6) and the state Seam must end up in, computed here
from the properties of latchkey-test.yaml (time zone, default times, buffers, locks). Run it after
changing the model; the YAML files are what the harness reads and can also be edited by hand.

    python3 Tests/Scenarios/make_scenarios.py
"""
import json
import os
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))

PMS_NAMES = ["native", "guesty", "hostaway", "hospitable", "lodgify"]

# Each PMS gets properties of its own, and scenarios alternate between two Seaside lofts, so that no lock
# takes more than about six code creations: Latchkey paces Seam calls to Seam's per-device limit
# (10 creations a minute), and the whole suite converges within its first minute.
KINDS = {
    "seaside-1": dict(name="Seaside Loft 1", zone="Europe/Berlin", cin=time(15), cout=time(11), before=0, after=0,
                      locks=["Front Door", "Back Door"]),
    "seaside-2": dict(name="Seaside Loft 2", zone="Europe/Berlin", cin=time(15), cout=time(11), before=0, after=0,
                      locks=["Front Door", "Back Door"]),
    "harbor": dict(name="Harbor House", zone="America/New_York", cin=time(16), cout=time(10), before=30, after=30,
                   locks=["Garage"]),
}


def listing_for(pms, kind):
    k = list(KINDS).index(kind)
    return {
        "native": "lst_" + kind.replace("-", "_"),
        "guesty": "64f0c0ffee00000000000%03x" % (k + 1),
        "hostaway": str(123450 + k),
        "hospitable": "550e8400-e29b-41d4-a716-44665544000%d" % k,
        "lodgify": str(10000 * (k + 1)),
    }[pms]


def devices_for(pms, kind):
    base = (PMS_NAMES.index(pms) + 1) * 100 + (list(KINDS).index(kind) + 1) * 10
    return ["22222222-2222-4222-8222-%012d" % (base + lock) for lock in range(len(KINDS[kind]["locks"]))]


def property_of(pms, kind):
    return dict(KINDS[kind], devices=devices_for(pms, kind), listing=listing_for(pms, kind))


UNKNOWN_LISTING = dict(native="lst_nowhere", guesty="64f0c0ffee0000000000dead", hostaway="999999",
                       hospitable="00000000-0000-4000-8000-0000000dead0", lodgify="99999")

# PMSs whose bodies carry no version (updated-at): the receipt order decides between two deliveries.
UNVERSIONED = {"lodgify"}
# PMSs whose bodies carry check-in and check-out times (the others give dates only).
WITH_TIMES = {"native", "guesty", "hostaway", "hospitable"}


class Booking:
    """The PMS's view of one reservation at one moment."""

    def __init__(self, pms, rid, prop="seaside-1", status="confirmed", ci=date(2030, 7, 14), co=date(2030, 7, 17)):
        self.pms, self.rid, self.prop, self.status = pms, rid, prop, status
        self.ci, self.co = ci, co
        self.ci_time = None  # None: the property's default
        self.co_time = None
        self.unspecified = False
        self.listing = None  # None: the property's listing
        self.version = 0

    def copy(self, **changes):
        other = Booking(self.pms, self.rid)
        other.__dict__.update(self.__dict__)
        other.__dict__.update(changes)
        return other

    @property
    def p(self):
        return property_of(self.pms, self.prop)

    def listing_id(self):
        return self.listing or self.p["listing"]

    def local(self, which):
        zone = ZoneInfo(self.p["zone"])
        if which == "in":
            return datetime.combine(self.ci, self.ci_time or self.p["cin"], zone)
        return datetime.combine(self.co, self.co_time or self.p["cout"], zone)

    def expected(self):
        if self.status != "confirmed" or self.unspecified or self.listing is not None:
            return {"group": "absent"}
        start = self.local("in") - timedelta(minutes=self.p["before"])
        end = self.local("out") + timedelta(minutes=self.p["after"])
        return {
            "group": "present",
            "devices": self.p["devices"],
            "starts_at": utc(start),
            "ends_at": utc(end),
            "same_pin_on_all_locks": True,
        }


def utc(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def updated_at(version):
    return datetime(2029, 6, 1, 10, 0, tzinfo=timezone.utc) + timedelta(minutes=5 * version)


def offset_text(dt):
    text = dt.strftime("%z")  # +0200
    return text


# MARK: - body shapes per PMS


def native_body(b, kind):
    has_dates = not b.unspecified
    return {
        "event": "booking.created" if kind == "create" else "booking.updated",
        "booking": {
            "id": b.rid,
            "listing_id": b.listing_id(),
            "status": b.status,
            "check_in": b.local("in").strftime("%Y-%m-%dT%H:%M:%S") if has_dates else None,
            "check_out": b.local("out").strftime("%Y-%m-%dT%H:%M:%S") if has_dates else None,
            "time_zone": b.p["zone"],
            "guest": {"name": "Ada Lovelace", "phone": "+49 30 1234567"},
            "updated_at": utc(updated_at(b.version)),
        },
    }


def guesty_body(b, kind):
    has_dates = not b.unspecified
    status = {"confirmed": "confirmed", "cancelled": "canceled"}[b.status]
    return {
        "event": "reservation.new" if kind == "create" else "reservation.updated",
        "reservation": {
            "_id": b.rid,
            "listingId": b.listing_id(),
            "status": status,
            "checkIn": utc(b.local("in")).replace("Z", ".000Z") if has_dates else None,
            "checkOut": utc(b.local("out")).replace("Z", ".000Z") if has_dates else None,
            "checkInDateLocalized": b.ci.isoformat() if has_dates else None,
            "checkOutDateLocalized": b.co.isoformat() if has_dates else None,
            "plannedArrival": (b.ci_time or b.p["cin"]).strftime("%H:%M"),
            "plannedDeparture": (b.co_time or b.p["cout"]).strftime("%H:%M"),
            "guest": {"fullName": "Ada Lovelace", "phone": "+49 30 1234567"},
            "confirmationCode": "GY-" + b.rid[-6:],
            "lastUpdatedAt": utc(updated_at(b.version)).replace("Z", ".000Z"),
            "source": "Airbnb",
        },
    }


def hostaway_body(b, kind):
    status = {"confirmed": "new" if kind == "create" else "modified", "cancelled": "cancelled"}[b.status]
    arrival, departure = (b.ci.isoformat(), b.co.isoformat())
    if b.unspecified:
        arrival, departure = "2026-11-28", "2026-11-29"  # Hostaway sets both to yesterday
    return {
        "event": "reservation.created" if kind == "create" else "reservation.updated",
        "data": {
            "id": int(b.rid),
            "listingMapId": int(b.listing_id()),
            "channelName": "airbnbOfficial",
            "status": status,
            "arrivalDate": arrival,
            "departureDate": departure,
            "checkInTime": (b.ci_time or b.p["cin"]).hour,
            "checkOutTime": (b.co_time or b.p["cout"]).hour,
            "isDatesUnspecified": 1 if b.unspecified else 0,
            "guestName": "Ada Lovelace",
            "phone": "+49 30 1234567",
            "updatedOn": updated_at(b.version).strftime("%Y-%m-%d %H:%M:%S"),
        },
    }


ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(counter):
    """A fixed ULID-shaped delivery id: time part of 2029-06-01, then the counter."""
    digits = ""
    n = counter
    for _ in range(16):
        digits = ULID_ALPHABET[n % 32] + digits
        n //= 32
    return "01J" + "0TT5M4" + "0" + digits


HOSPITABLE_COUNTER = [0]


def hospitable_body(b, kind):
    HOSPITABLE_COUNTER[0] += 1
    has_dates = not b.unspecified
    cin, cout = b.local("in"), b.local("out")
    midnight_in = datetime.combine(b.ci, time(0), ZoneInfo(b.p["zone"]))
    midnight_out = datetime.combine(b.co, time(0), ZoneInfo(b.p["zone"]))
    category = {"confirmed": "accepted", "cancelled": "cancelled"}[b.status]
    return {
        "id": ulid(HOSPITABLE_COUNTER[0]),
        "action": "reservation.created" if kind == "create" else "reservation.changed",
        "triggers": {"create": "status_changed", "update": "dates_changed", "cancel": "status_changed", "move": "listing_changed"}[kind],
        "created": utc(updated_at(b.version)),
        "version": "v2",
        "data": {
            "id": b.rid,
            "platform": "airbnb",
            "platform_id": "HM" + b.rid[-6:].upper(),
            "arrival_date": midnight_in.isoformat() if has_dates else None,
            "departure_date": midnight_out.isoformat() if has_dates else None,
            "check_in": cin.isoformat() if has_dates else None,
            "check_out": cout.isoformat() if has_dates else None,
            "reservation_status": {"current": {"category": category, "sub_category": None}, "history": []},
            "properties": [{"id": b.listing_id(), "timezone": offset_text(cin)}],
            "guest": {"first_name": "Ada", "last_name": "Lovelace", "phone_numbers": ["+49301234567"]},
        },
    }


def lodgify_body(b, kind):
    has_dates = not b.unspecified
    status = {"confirmed": "Booked", "cancelled": "Declined"}[b.status]
    return {
        "action": "booking_new_status_booked" if kind == "create" else "booking_change",
        "booking": {
            "type": "Booking",
            "id": int(b.rid),
            "status": status,
            "property_id": int(b.listing_id()),
            "room_types": [{"id": 999999, "room_type_id": 12345, "people": 2}],
            "date_arrival": b.ci.isoformat() + "T00:00:00" if has_dates else None,
            "date_departure": b.co.isoformat() + "T00:00:00" if has_dates else None,
            "date_created": "2029-06-01T10:00:00+00:00",
            "nights": (b.co - b.ci).days,
            "source": "Manual",
        },
        "guest": {"name": "Ada Lovelace", "email": "ada@example.com", "phone_number": "+49301234567"},
    }


BODIES = dict(native=native_body, guesty=guesty_body, hostaway=hostaway_body, hospitable=hospitable_body,
              lodgify=lodgify_body)


# MARK: - scenarios


def rid_for(pms, n):
    if pms in ("hostaway", "lodgify"):
        return str({"hostaway": 910000, "lodgify": 820000}[pms] + n)
    prefix = {"native": "res_", "guesty": "gst", "hospitable": "hsp-"}[pms]
    if pms == "guesty":
        return "65a0c0ffee%014d" % n  # 24 hex digits like a Guesty ObjectId
    return "%s%06d" % (prefix, n)


class ScenarioBuilder:
    def __init__(self, pms, slug, name, description, n):
        self.pms, self.slug, self.name, self.description = pms, slug, name, description
        self.rid = rid_for(pms, n)
        self.home = "seaside-1" if n % 2 else "seaside-2"
        self.deliveries = []
        self.expect = {}
        self.order = None
        self.known_issue = None
        self.version = 0

    def booking(self, **changes):
        return Booking(self.pms, self.rid, prop=self.home).copy(**changes)

    def send(self, booking, kind, label, **extra):
        self.version += 1
        stamped = booking.copy(version=extra.pop("version", self.version))
        delivery = {"label": label, "body": BODIES[self.pms](stamped, kind)}
        delivery.update(extra)
        self.deliveries.append(delivery)
        return stamped

    def duplicate(self, index, label, status=200):
        self.deliveries.append({"label": label, "duplicate_of": index, "expect_status": status})

    def final(self, booking):
        self.expect[booking.rid] = booking.expected()

    def write(self):
        if self.pms in UNVERSIONED and len(self.deliveries) > 1 and not self.order:
            # Without a version in the body only the receipt order can decide; a shuffle would change the answer.
            self.order = "strict"
        folder = os.path.join(HERE, self.pms)
        os.makedirs(folder, exist_ok=True)
        lines = [
            "# Generated by Tests/Scenarios/make_scenarios.py from one booking model; edit there or by hand.",
            "name: %s" % json.dumps("%s: %s" % (self.pms, self.name)),
            "source: %s" % self.pms,
            "description: %s" % json.dumps(self.description),
        ]
        if self.order:
            lines.append("order: %s" % self.order)
        if self.known_issue:
            lines.append("known_issue: %s" % json.dumps(self.known_issue))
        lines.append("deliveries:")
        for d in self.deliveries:
            first = True
            for key in ("label", "duplicate_of", "sign", "delay_ms", "expect_status"):
                if key in d:
                    lines.append(("  - " if first else "    ") + "%s: %s" % (key, json.dumps(d[key])))
                    first = False
            if "body" in d:
                text = json.dumps(d["body"], indent=2).replace("\n", "\n      ")
                lines.append("    body: " + text)
        lines.append("expect:")
        for rid, state in self.expect.items():
            lines.append("  %s:" % json.dumps(rid))
            for key, value in state.items():
                lines.append("    %s: %s" % (key, json.dumps(value) if not isinstance(value, bool) else str(value).lower()))
        with open(os.path.join(folder, self.slug + ".yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")


def scenarios_for(pms):
    out = []
    n = [0]

    def new(slug, name, description):
        n[0] += 1
        s = ScenarioBuilder(pms, slug, name, description, n[0])
        out.append(s)
        return s

    s = new("new-booking", "new booking", "A confirmed booking gets one linked group on every lock of its property.")
    b = s.send(s.booking(), "create", "created")
    s.final(b)

    s = new("duplicate-delivery", "duplicate delivery",
            "The PMS delivers the same webhook twice; the second is answered 200 duplicate and changes nothing.")
    b = s.send(s.booking(), "create", "created")
    s.duplicate(0, "created, delivered again")
    s.final(b)

    s = new("early-check-in", "early check-in", "The guest may arrive earlier: the group's window starts earlier, same PIN.")
    b = s.send(s.booking(), "create", "created")
    if pms in WITH_TIMES:
        b = s.send(b.copy(ci_time=time(12)), "update", "check-in moved to 12:00")
    else:
        b = s.send(b.copy(ci=b.ci - timedelta(days=1)), "update", "arrival a day earlier")
    s.final(b)

    s = new("late-checkout", "late checkout", "The guest may leave later: the group's window ends later, same PIN.")
    b = s.send(s.booking(), "create", "created")
    if pms in WITH_TIMES:
        b = s.send(b.copy(co_time=time(14)), "update", "checkout moved to 14:00")
    else:
        b = s.send(b.copy(co=b.co + timedelta(days=1)), "update", "departure a day later")
    s.final(b)

    s = new("shortened-stay", "shortened stay", "The stay is cut by a night: the window ends a day earlier.")
    b = s.send(s.booking(), "create", "created")
    b = s.send(b.copy(co=b.co - timedelta(days=1)), "update", "departure a day earlier")
    s.final(b)

    s = new("cancellation", "cancellation", "A confirmed booking is cancelled: every code of its group is deleted.")
    b = s.send(s.booking(), "create", "created")
    b = s.send(b.copy(status="cancelled"), "cancel", "cancelled")
    s.final(b)

    s = new("reconfirmed-after-cancellation", "re-confirmation after cancellation",
            "Cancelled, then confirmed again: a group exists at the end.")
    b = s.send(s.booking(), "create", "created")
    b = s.send(b.copy(status="cancelled"), "cancel", "cancelled")
    b = s.send(b.copy(status="confirmed"), "update", "confirmed again")
    s.final(b)

    s = new("moved-listing", "booking moved to another listing",
            "The booking moves to a listing of another property: the old locks lose their codes, the new lock gets a group "
            "with the new property's times and buffers.")
    b = s.send(s.booking(), "create", "created at a Seaside Loft")
    b = s.send(b.copy(prop="harbor"), "move" if pms == "hospitable" else "update", "moved to Harbor House")
    s.final(b)

    def out_of_order(slug, name, description, change, kind, label):
        s = new(slug, name, description)
        created = s.booking()
        newer = change(created)
        s.send(newer, kind, label + " (sent first)", version=2)
        s.send(created, "create", "created (sent second, older)", version=1)
        s.final(newer)
        s.order = "strict"
        if pms in UNVERSIONED:
            s.known_issue = ("Lodgify bodies carry no updated-at, so the older creation received last looks newest; "
                             "only a read-back of the booking from Lodgify's API can order them")

    out_of_order("out-of-order-update-before-create", "out-of-order delivery: update before create",
                 "The update (newer) arrives before the creation (older): the newer dates win.",
                 lambda b: b.copy(co=b.co + timedelta(days=2)), "update", "updated")
    out_of_order("out-of-order-cancel-before-create", "out-of-order delivery: cancel before create",
                 "The cancellation (newer) arrives before the creation (older): no group.",
                 lambda b: b.copy(status="cancelled"), "cancel", "cancelled")

    s = new("out-of-order-stale-cancel-after-reconfirm", "out-of-order delivery: old cancellation after re-confirmation",
            "Created, cancelled, confirmed again; the cancellation (older than the re-confirmation) arrives last and "
            "must not remove the group.")
    created = s.booking()
    s.send(created, "create", "created", version=1)
    confirmed = s.send(created.copy(status="confirmed"), "update", "confirmed again (newest)", version=3)
    s.send(created.copy(status="cancelled"), "cancel", "cancelled (older, arrives last)", version=2)
    s.final(confirmed)
    s.order = "strict"
    if pms in UNVERSIONED:
        s.known_issue = ("Lodgify bodies carry no updated-at, so the older cancellation received last looks newest; "
                         "only a read-back of the booking from Lodgify's API can order them")

    s = new("dates-unspecified", "dates unspecified",
            "The channel gave no dates yet" + (" (isDatesUnspecified = 1, dates set to yesterday)" if pms == "hostaway" else "")
            + ": no group until dates arrive.")
    b = s.send(s.booking(unspecified=True), "create", "created without dates")
    s.final(b)

    s = new("unknown-listing", "unknown listing",
            "A booking for a listing no property maps: accepted (it may be mapped later) but no code anywhere.")
    b = s.send(s.booking(listing=UNKNOWN_LISTING[pms]), "create", "created for an unmapped listing")
    s.final(b)

    s = new("bad-signature", "bad signature",
            "Deliveries with a wrong secret, no signature, or another source's signature are refused with 401 and leave no trace.")
    b = s.booking()
    s.send(b, "create", "signed with a wrong secret", sign="wrong_secret")
    s.send(b, "create", "not signed", sign=False)
    s.send(b, "create", "signed with another source's secret", sign="other_source")
    s.final(b.copy(status="cancelled"))

    if pms in ("native", "guesty"):
        s = new("stale-timestamp", "stale timestamp",
                "A delivery signed over a timestamp older than the tolerance is refused with 401 and leaves no trace.")
        b = s.booking()
        s.send(b, "create", "signed 7 minutes ago", sign="stale")
        s.final(b.copy(status="cancelled"))
    else:
        s = new("stale-timestamp", "stale delivery replayed",
                "This PMS signs no timestamp, so staleness cannot be seen in the signature: an old delivery replayed after "
                "a cancellation is answered 200 duplicate and must not bring the group back.")
        b = s.send(s.booking(), "create", "created")
        c = s.send(b.copy(status="cancelled"), "cancel", "cancelled")
        s.duplicate(0, "old creation replayed")
        s.final(c)
    return out


def native_url_scenarios():
    """The native format behind a secret path token (source native-url)."""
    out = []
    s = ScenarioBuilder("native", "path-token-new-booking", "new booking through a path-token URL",
                        "The token in the URL authenticates the delivery.", 90)
    b = s.send(s.booking(), "create", "created")
    s.final(b)
    out.append(s)
    s = ScenarioBuilder("native", "path-token-wrong-token", "wrong path token",
                        "A wrong or missing token in the URL is refused with 401.", 91)
    b = s.booking()
    s.send(b, "create", "wrong token", sign="wrong_secret")
    s.send(b, "create", "no token", sign=False, expect_status=[401, 404])
    s.final(b.copy(status="cancelled"))
    out.append(s)
    for s in out:
        s.source_override = "native-url"
    return out


CONFIG_HEAD = """\
# Latchkey configuration for the replay scenarios in this directory. Generated by make_scenarios.py.
#   latchkey fake-seam --seed Tests/Scenarios/fake-seam-seed.json --port 4010
#   SEAM_API_KEY=seam_test_key SEAM_ENDPOINT=http://127.0.0.1:4010 latchkey serve --config Tests/Scenarios/latchkey-test.yaml
#   latchkey replay Tests/Scenarios --config Tests/Scenarios/latchkey-test.yaml --fake-seam http://127.0.0.1:4010
# Sandbox only: the secrets are inline test values. Each PMS has properties and locks of its own
# (fake-seam-seed.json), so Latchkey's pacing to Seam's per-device limits never holds the suite up.

data_dir: ./latchkey-replay-data
log_level: info

admin:
  token: null

sources:
  native:
    scheme: standard_webhooks
    secrets: [{value: whsec_bGF0Y2hrZXktbmF0aXZlLXNhbmRib3gta2V5LTAwMQ==}]
  native-url:                        # the native format behind a secret URL token (Mews style)
    adapter: native
    scheme: path_token
    secrets: [{value: sandbox-path-token-0001}]
  guesty:
    scheme: standard_webhooks        # Guesty signs through Svix (svix-* headers)
    secrets: [{value: whsec_bGF0Y2hrZXktZ3Vlc3R5LXNhbmRib3gta2V5LTAwMQ==}]
  hostaway:
    scheme: basic
    username: hostaway
    secrets: [{value: hostaway-sandbox-password}]
  hospitable:
    scheme: hmac_sha256
    header: Signature
    encoding: hex
    secrets: [{value: hospitable-sandbox-secret}]
  lodgify:
    scheme: hmac_sha256
    header: ms-signature
    prefix: "sha256="
    encoding: hex
    secrets: [{value: lodgify-sandbox-secret}]

properties:
"""


def write_config_and_seed():
    lines = [CONFIG_HEAD.rstrip("\n")]
    devices = []
    for pms in PMS_NAMES:
        for kind, spec in KINDS.items():
            prop = property_of(pms, kind)
            listings = {pms: [prop["listing"]]}
            if pms == "native":
                listings["native-url"] = [prop["listing"]]
            lines += [
                "  - id: %s-%s" % (pms, kind),
                "    name: %s (%s)" % (spec["name"], pms),
                "    time_zone: %s" % spec["zone"],
                "    listings: {%s}" % ", ".join("%s: [%s]" % (k, json.dumps(v[0])) for k, v in listings.items()),
                "    device_ids: [%s]" % ", ".join(prop["devices"]),
                '    check_in_time: "%s"' % spec["cin"].strftime("%H:%M"),
                '    check_out_time: "%s"' % spec["cout"].strftime("%H:%M"),
                "    buffer_before_check_in_minutes: %d" % spec["before"],
                "    buffer_after_check_out_minutes: %d" % spec["after"],
                "    preferred_code_length: 4",
            ]
            for device, lock in zip(prop["devices"], spec["locks"]):
                devices.append({"device_id": device, "display_name": "%s, %s (%s)" % (lock, spec["name"], pms),
                                "device_type": "august_lock"})
    with open(os.path.join(HERE, "latchkey-test.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    seed = {"workspace_id": "00000000-0000-4000-8000-00000000a000",
            "connected_account_id": "00000000-0000-4000-8000-00000000ac00", "devices": devices}
    with open(os.path.join(HERE, "fake-seam-seed.json"), "w") as f:
        f.write(json.dumps(seed, indent=2) + "\n")


def main():
    write_config_and_seed()
    count = 0
    for pms in BODIES:
        for s in scenarios_for(pms):
            s.write()
            count += 1
    for s in native_url_scenarios():
        s.write()
        path = os.path.join(HERE, s.pms, s.slug + ".yaml")
        text = open(path).read().replace("source: native\n", "source: native-url\n", 1).replace('"native: ', '"native-url: ', 1)
        open(path, "w").write(text)
        count += 1
    print("wrote %d scenarios" % count)


if __name__ == "__main__":
    main()
