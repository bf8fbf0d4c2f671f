"""Seeded, deterministic accounts and the price and usage curves they see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import hashlib
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
QUARTER = timedelta(minutes=15)
# Tomorrow's prices appear at 14:20 Berlin time, smart-meter usage at 16:00 on D+1.
PRICE_PUBLICATION = time(14, 20)
USAGE_PUBLICATION = time(16, 0)
# Usage of the last days stays preliminary; older days are final.
PRELIMINARY_DAYS = 5


def unit_hash(*parts: object) -> float:
    """Return a deterministic number in [0, 1) for the given parts."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def make_id(prefix: str, seed: str) -> str:
    """Return a Nomos-style id: prefix plus 24 lowercase alphanumerics."""
    digest = hashlib.sha256(seed.encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(24):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return prefix + "".join(chars)


def iso(moment: datetime) -> str:
    """Format a UTC timestamp the way Nomos does (`Z` suffix)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(moment: datetime) -> str:
    """Format a UTC timestamp with milliseconds, as the usage endpoint does."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def local_midnight(day: date) -> datetime:
    """Return the UTC instant of 00:00 Europe/Berlin on `day`."""
    return datetime.combine(day, time(0), BERLIN).astimezone(UTC)


def quarters_of_day(day: date) -> list[datetime]:
    """Return the UTC starts of every quarter-hour of a Berlin day (92, 96 or 100)."""
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    count = int((end - start) / QUARTER)
    return [start + index * QUARTER for index in range(count)]


# The grid operator's time-variable grid fees (§14a EnWG module 3) for contracts that have
# them: per level, the share of the standard fee, and the windows in Berlin local time
# (so a DST day keeps them: 00:00-06:00 is 5 hours in March, 7 in October). The windows
# change with the seasons, on the first day of a quarter: winter ones in Q1 and Q4,
# summer ones in Q2 and Q3 (the solar noon is cheap then).
GRID_LEVEL_FACTORS = {"low": 0.4, "standard": 1.0, "high": 1.5}
MODULE3_WINDOWS = {
    "winter": (("low", time(0), time(6)), ("high", time(17), time(20))),
    "summer": (("low", time(11), time(15)), ("high", time(18), time(21))),
}
SUMMER_MONTHS = range(4, 10)


def module3_season(day: date) -> str:
    """Return which of the operator's window sets holds on a Berlin day."""
    return "summer" if day.month in SUMMER_MONTHS else "winter"


def grid_level_at(moment: datetime) -> str:
    """Return the module-3 grid-fee level ("low", "standard", "high") at an instant."""
    local = moment.astimezone(BERLIN)
    for level, start, end in MODULE3_WINDOWS[module3_season(local.date())]:
        if start <= local.time() < end:
            return level
    return "standard"


@dataclass
class Customer:
    """A seeded customer."""

    key: str
    first_name: str
    last_name: str
    email: str
    street: str = "Torstraße"
    house_number: str = "119"
    zip: str = "10115"
    city: str = "Berlin"

    @property
    def id(self) -> str:
        """Return the customer id."""
        return make_id("cus_", self.key)

    @property
    def address_id(self) -> str:
        """Return the id of the supply address."""
        return make_id("adr_", self.key)

    @property
    def created_at(self) -> datetime:
        """Return when the customer signed up."""
        return datetime(2024, 11, 1, 9, 0, tzinfo=UTC)

    def to_json(self) -> dict[str, object]:
        """Return the curie customer object."""
        return {
            "object": "customer",
            "id": self.id,
            "type": "person",
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "vat_id": None,
            "created_at": iso(self.created_at),
        }

    def address_json(self) -> dict[str, object]:
        """Return the curie address object."""
        return {
            "object": "address",
            "id": self.address_id,
            "street": self.street,
            "house_number": self.house_number,
            "zip": self.zip,
            "city": self.city,
            "created_at": iso(self.created_at),
        }


@dataclass
class Subscription:
    """A seeded supply contract."""

    key: str
    customer: Customer
    number: str
    meter_type: str
    start_at: datetime | None
    end_at: datetime | None = None
    estimated_usage: float = 3500
    grid_fee: float = 9.47
    levies: float = 6.2
    # "consumption" or "feed_in": a feed-in contract pays for energy sent to the grid.
    kind: str = "consumption"
    # Time-variable grid fees (module 3): `grid_fee` is the standard level's fee.
    module3: bool = False
    price_overrides: dict[datetime, float | None] = field(default_factory=dict)
    # Invoiced kWh that differ from the meter (first day of the month -> kWh), to test checks.
    invoice_overrides: dict[date, float] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Return the subscription id."""
        return make_id("sub_", self.key)

    @property
    def meter_id(self) -> str:
        """Return the meter id."""
        return make_id("mtr_", self.key)

    @property
    def created_at(self) -> datetime:
        """Return when the contract was signed: a month before supply."""
        return (self.start_at or datetime(2026, 11, 1, tzinfo=UTC)) - timedelta(days=30)

    def status(self, now: datetime) -> str:
        """Return pending, active or ended at `now`."""
        if self.start_at is None or now < self.start_at:
            return "pending"
        if self.end_at is not None and now >= self.end_at:
            return "ended"
        return "active"

    def to_json(self, now: datetime, *, expanded: bool) -> dict[str, object]:
        """Return the curie subscription object, ids only or expanded."""
        customer: object = self.customer.id
        address: object = self.customer.address_id
        meter: object = self.meter_id
        payment: object = make_id("pm_", self.key)
        if expanded:
            customer = self.customer.to_json()
            address = self.customer.address_json()
            meter = {
                "object": "meter",
                "id": self.meter_id,
                "melo": "DE00000" + str(int(unit_hash(self.key, "melo") * 10**13)).zfill(13),
                "number": "1APA" + str(int(unit_hash(self.key, "meter") * 10**10)).zfill(10),
                "type": self.meter_type,
                "malo": str(int(unit_hash(self.key, "malo") * 10**11)).zfill(11),
                "created_at": iso(self.created_at),
            }
            payment = {
                "object": "payment_method",
                "id": make_id("pm_", self.key),
                "type": "sepa_debit",
                "sepa_debit": {
                    "iban": "DE************"
                    + str(int(unit_hash(self.key, "iban") * 10**4)).zfill(4),
                    "account_holder": f"{self.customer.first_name} {self.customer.last_name}",
                },
                "created_at": iso(self.created_at),
            }
        updated = self.created_at
        status = self.status(now)
        if status != "pending" and self.start_at is not None:
            updated = self.start_at
        if status == "ended" and self.end_at is not None:
            updated = self.end_at
        return {
            "object": "subscription",
            "id": self.id,
            "plan": self.plan_id,
            "customer": customer,
            "address": address,
            "billing_address": address,
            "meter": meter,
            "payment_method": payment,
            "supplier": None,
            "number": self.number,
            "status": status,
            "estimated_usage": self.estimated_usage,
            "created_at": iso(self.created_at),
            "updated_at": iso(updated),
            "start_at": iso(self.start_at) if self.start_at else None,
            "terminated_at": iso(self.end_at - timedelta(days=40)) if self.end_at else None,
            "end_at": iso(self.end_at) if self.end_at else None,
            "metadata": None,
            "type": self.kind,
        }

    @property
    def plan_id(self) -> str:
        """Return the id of the contract's plan."""
        return make_id("pln_", "solar" if self.kind == "feed_in" else "dynamic")

    # Prices ----------------------------------------------------------------

    def spot(self, moment: datetime) -> float:
        """Return the energy component (ct/kWh incl. VAT) for a quarter-hour."""
        local = moment.astimezone(BERLIN)
        hour = local.hour + local.minute / 60
        day_factor = 0.7 + 0.6 * unit_hash("day", local.date())
        # Night trough, morning and evening peaks, a solar dip at noon.
        curve = (
            9.0
            + 5.0 * _bump(hour, 8.0, 1.5)
            + 9.0 * _bump(hour, 19.0, 2.0)
            - 6.0 * _bump(hour, 13.0, 2.5)
            - 2.0 * _bump(hour, 3.5, 2.0)
        )
        sunny = unit_hash("sunny", local.date()) < 0.2
        if sunny:
            curve -= 12.0 * _bump(hour, 13.0, 1.8)
        noise = (unit_hash("noise", moment) - 0.5) * 1.6
        return round(curve * day_factor + noise, 2)

    def price_item(self, moment: datetime) -> dict[str, object]:
        """Return one price item; components sum to the amount.

        A feed-in contract pays the market value less a margin: no grid fees,
        levies or VAT, and negative when the spot price is.
        """
        electricity = self.spot(moment)
        grid_fee, levies = self.grid_fee, self.levies
        if self.module3:
            grid_fee = round(grid_fee * GRID_LEVEL_FACTORS[grid_level_at(moment)], 2)
        if self.kind == "feed_in":
            electricity = round(electricity / 1.19 - 0.4, 2)
            grid_fee = levies = 0.0
        components = [
            {"type": "electricity", "amount": electricity},
            {"type": "grid", "amount": grid_fee},
            {"type": "levies", "amount": levies},
        ]
        amount: float | None = round(electricity + grid_fee + levies, 2)
        if moment in self.price_overrides:
            amount = self.price_overrides[moment]
            if amount is None:
                components[0]["amount"] = None
            else:
                components[0]["amount"] = round(amount - grid_fee - levies, 2)
        return {"timestamp": iso(moment), "amount": amount, "components": components}

    # Usage -----------------------------------------------------------------

    def month_usage(self, first: date) -> float:
        """Return the final kWh the smart meter measured in a Berlin month (within supply)."""
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return _month_usage(self, first, following)

    def quarter_usage(self, moment: datetime) -> float:
        """Return the final kWh of one quarter-hour for a smart meter (fed in, for feed-in)."""
        local = moment.astimezone(BERLIN)
        hour = local.hour + local.minute / 60
        if self.kind == "feed_in":
            # A 6 kWp roof: daylight around 13:00, nothing at night.
            sun = max(0.0, 1 - ((hour - 13) / 5.5) ** 2)
            clouds = 0.3 + 0.7 * unit_hash("sunny", local.date())
            return round(6 * 0.25 * sun * clouds * (0.9 + 0.2 * unit_hash("pv", moment)), 3)
        base = self.estimated_usage / 8760 / 4 * 0.6
        profile = 1 + 1.2 * _bump(hour, 7.5, 1.0) + 2.0 * _bump(hour, 19.5, 2.0)
        noise = 0.6 + 0.8 * unit_hash("usage", self.key, moment)
        return round(base * profile * noise, 3)


def _month_usage(sub: Subscription, first: date, following: date) -> float:
    key = (sub.key, sub.start_at, sub.end_at, first)
    if key not in _MONTH_USAGE:
        total = 0.0
        day = first
        while day < following:
            for moment in quarters_of_day(day):
                if (sub.start_at is None or moment >= sub.start_at) and (
                    sub.end_at is None or moment < sub.end_at
                ):
                    total += sub.quarter_usage(moment)
            day += timedelta(days=1)
        _MONTH_USAGE[key] = round(total, 3)
    return _MONTH_USAGE[key]


_MONTH_USAGE: dict[tuple[object, ...], float] = {}


def _bump(hour: float, center: float, width: float) -> float:
    """Return a smooth bump of height 1 at `center` (hours, wrapping at midnight)."""
    distance = min(abs(hour - center), 24 - abs(hour - center))
    return float(max(0.0, 1 - (distance / (2 * width)) ** 2))


def seed_accounts() -> tuple[list[Customer], list[Subscription]]:
    """Return the seeded customers and subscriptions."""
    anna = Customer("anna", "Anna", "Schmidt", "anna@example.com")
    ben = Customer(
        "ben", "Ben", "Keller", "ben@example.com", street="Kastanienallee", house_number="12"
    )
    clara = Customer("clara", "Clara", "Wolf", "clara@example.com", zip="80331", city="München")
    david = Customer("david", "David", "Braun", "david@example.com", zip="20095", city="Hamburg")
    emma = Customer("emma", "Emma", "Fischer", "emma@example.com", zip="50667", city="Köln")
    felix = Customer("felix", "Felix", "Roth", "felix@example.com", zip="79098", city="Freiburg")
    subscriptions = [
        Subscription(
            "anna-home",
            anna,
            "4X44EMKX",
            "smart",
            datetime(2025, 1, 1, tzinfo=UTC) - timedelta(hours=1),
        ),
        Subscription(
            "ben-flat",
            ben,
            "B3NFL4T7",
            "smart",
            datetime(2025, 6, 30, 22, tzinfo=UTC),
            estimated_usage=2400,
        ),
        Subscription(
            "ben-old",
            ben,
            "B3N0LD22",
            "smart",
            datetime(2024, 12, 31, 23, tzinfo=UTC),
            end_at=datetime(2025, 6, 30, 22, tzinfo=UTC),
            estimated_usage=2100,
        ),
        Subscription("clara-new", clara, "CL4R4NEW", "smart", None, estimated_usage=1800),
        Subscription(
            "david-analog",
            david,
            "D4V1DANL",
            "analog",
            datetime(2025, 3, 31, 22, tzinfo=UTC),
            estimated_usage=4200,
        ),
    ]
    # Felix buys and sells: a consumption contract and a feed-in one for his solar roof.
    felix_start = datetime(2026, 4, 30, 22, tzinfo=UTC)
    subscriptions += [
        Subscription("felix-home", felix, "F3L1XH0M", "smart", felix_start),
        Subscription("felix-solar", felix, "F3L1XS0L", "smart", felix_start, kind="feed_in"),
    ]
    # Greta has a heat pump and a wallbox with time-variable grid fees (§14a module 3).
    greta = Customer(
        "greta", "Greta", "Hofmann", "greta@example.com", zip="70173", city="Stuttgart"
    )
    subscriptions.append(
        Subscription(
            "greta-module3",
            greta,
            "GR3TAM03",
            "smart",
            datetime(2025, 1, 1, tzinfo=UTC) - timedelta(hours=1),
            estimated_usage=6500,
            grid_fee=10.0,
            module3=True,
        )
    )
    # Hanna lets three flats and lives in the fourth; each flat's smart meter order
    # stands at another step (the statuses no other account reaches).
    hanna = Customer("hanna", "Hanna", "Vogel", "hanna@example.com", zip="04109", city="Leipzig")
    subscriptions += [
        Subscription(
            f"hanna-flat{floor}",
            hanna,
            number,
            "analog",
            datetime(2025, 12, 31, 23, tzinfo=UTC),
            estimated_usage=usage,
        )
        for floor, number, usage in (
            (1, "H4NN4EG1", 1900),
            (2, "H4NN4OG2", 2300),
            (3, "H4NN4OG3", 1600),
            (4, "H4NN4DG4", 2800),
        )
    ]
    return [anna, ben, clara, david, emma, felix, greta, hanna], subscriptions
