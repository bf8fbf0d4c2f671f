"""Seeded, deterministic accounts and the price and usage curves they see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import functools
import hashlib
import math
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
    # How the household uses power: "flat" (one daily shape and noise) or "family"
    # (workdays and weekends, seasons, public holidays, a summer holiday away). A
    # profile other than "flat" is billed at the quarter-hour prices, as Nomos bills.
    profile: str = "flat"
    # A monthly advance payment (EUR): a prepayment invoice on each month's 1st.
    prepayment: float | None = None

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
        if self.profile == "family":
            return family_quarter_usage(self.key, moment)
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

    # Invoices --------------------------------------------------------------

    def supplied(self, moment: datetime) -> bool:
        """Return whether a quarter-hour lies within the supply."""
        return (self.start_at is None or moment >= self.start_at) and (
            self.end_at is None or moment < self.end_at
        )

    def invoice_total(self, first: date, usage: float) -> float:
        """Return a month's invoice total (EUR) for the invoiced kWh.

        The flat households keep their historic flat rate; the others pay each
        metered quarter-hour at its all-in price plus the plan's base fee (pro rata
        in a month the supply starts or ends), nothing else (metering is billed
        apart). Totals are kept: listing invoices would price every month again.
        """
        if self.profile == "flat":
            return round(usage * 0.29 + 10.99, 2)
        key = (self.key, self.start_at, self.end_at, first, usage)
        if key not in _MONTH_TOTAL or self.price_overrides:
            _MONTH_TOTAL[key] = self._billed(first)
        return _MONTH_TOTAL[key]

    def _billed(self, first: date) -> float:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        energy = 0.0
        supplied_days = 0
        day = first
        while day < following:
            quarters = [moment for moment in quarters_of_day(day) if self.supplied(moment)]
            supplied_days += bool(quarters)
            for moment in quarters:
                price = self.price_item(moment)["amount"]
                if isinstance(price, int | float):
                    energy += self.quarter_usage(moment) * price / 100
            day += timedelta(days=1)
        fee = DYNAMIC_PLAN_FEE * supplied_days / (following - first).days
        return round(energy + fee, 2)

    def prepayment_invoices(self, now: datetime) -> list[dict[str, object]]:
        """Return the advance payments charged so far: one on each supplied month's 1st.

        Each covers its month (period_start/period_end) and is paid by direct
        debit five days after it is issued.
        """
        if self.prepayment is None or self.start_at is None:
            return []
        first = self.start_at.astimezone(BERLIN).date().replace(day=1)
        invoices: list[dict[str, object]] = []
        number = 0
        while local_midnight(first) <= now and (
            self.end_at is None or local_midnight(first) < self.end_at
        ):
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            number += 1
            issued = local_midnight(first) + timedelta(hours=6)
            paid = issued + timedelta(days=5)
            if issued <= now:
                invoices.append(
                    {
                        "object": "invoice",
                        "id": f"inv_{self.id[4:15]}p{number:012d}",
                        "customer": self.customer.id,
                        "subscription": self.id,
                        "invoice_number": f"{self.number}-A{number:03d}",
                        "month": first.month,
                        "year": first.year,
                        "period_start": iso(local_midnight(first)),
                        "period_end": iso(local_midnight(following)),
                        "period_number": number,
                        "status": "paid" if paid <= now else "open",
                        "issued_at": iso(issued),
                        "paid_at": iso(paid) if paid <= now else None,
                        "type": "prepayment",
                        "total": self.prepayment,
                    }
                )
            first = following
        return invoices


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
_MONTH_TOTAL: dict[tuple[object, ...], float] = {}


# The dynamic plan's monthly base fee (EUR incl. VAT), as `GET /plans/{id}` serves it.
DYNAMIC_PLAN_FEE = 10.99


def easter_sunday(year: int) -> date:
    """Return Easter Sunday (the Gregorian computus)."""
    golden = year % 19
    century, rest = divmod(year, 100)
    leap_c, leap_r = divmod(century, 4)
    moon = (century - (century + 8) // 25 + 1) // 3
    epact = (19 * golden + century - leap_c - moon + 15) % 30
    weekday = (32 + 2 * leap_r + 2 * (rest // 4) - epact - rest % 4) % 7
    offset = (golden + 11 * epact + 22 * weekday) // 451
    month, day = divmod(epact + weekday - 7 * offset + 114, 31)
    return date(year, month, day + 1)


@functools.cache
def public_holidays(year: int) -> frozenset[date]:
    """Return Germany's nationwide public holidays of a year."""
    easter = easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),
            easter - timedelta(days=2),
            easter + timedelta(days=1),
            date(year, 5, 1),
            easter + timedelta(days=39),
            easter + timedelta(days=50),
            date(year, 10, 3),
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def family_away(day: date) -> bool:
    """Return whether the family is on its summer holiday: two weeks from August's 1st Saturday."""
    first_saturday = date(day.year, 8, 1) + timedelta(days=(5 - date(day.year, 8, 1).weekday()) % 7)
    return first_saturday <= day < first_saturday + timedelta(days=14)


# A family house (two adults, two children, about 4,500 kWh a year), in kW by time of
# day: (base, ((height, centre hour, width), ...)). Workdays: breakfast, a home-office
# lunch, the children in the afternoon, cooking and washing in the evening. Saturdays
# start later; Sundays and public holidays have a big lunch.
FAMILY_LOADS: dict[str, tuple[float, tuple[tuple[float, float, float], ...]]] = {
    "workday": (0.155, ((1.0, 6.75, 0.6), (0.32, 12.5, 1.0), (0.27, 16.0, 1.5), (1.17, 19.0, 1.6))),
    "saturday": (0.17, ((0.8, 9.0, 1.0), (0.5, 12.75, 1.0), (0.27, 16.0, 1.5), (1.0, 19.0, 1.8))),
    "sunday": (0.17, ((0.8, 9.5, 1.1), (0.9, 12.5, 0.9), (0.32, 16.0, 1.5), (0.9, 18.75, 1.8))),
}
# What stays on while the family is away: fridge, freezer, router, standby (kW).
FAMILY_AWAY_LOAD = 0.14
# Winter uses a quarter more than the average day, summer a quarter less (lights, the
# circulation pump, the tumble dryer); the peak is in mid-January.
FAMILY_SEASON = 0.25


def family_day_kind(day: date) -> str:
    """Return "workday", "saturday" or "sunday" (public holidays are Sundays)."""
    if day.weekday() == 6 or day in public_holidays(day.year):
        return "sunday"
    return "saturday" if day.weekday() == 5 else "workday"


@functools.cache  # asked for again and again: by usage, invoices and month totals
def family_quarter_usage(key: str, moment: datetime) -> float:
    """Return the family's kWh in one quarter-hour (Berlin wall-clock time)."""
    local = moment.astimezone(BERLIN)
    day = local.date()
    noise = 0.75 + 0.5 * unit_hash("usage", key, moment)
    if family_away(day):
        return round(FAMILY_AWAY_LOAD * 0.25 * noise, 3)
    hour = local.hour + local.minute / 60
    base, bumps = FAMILY_LOADS[family_day_kind(day)]
    load = base + sum(height * _bump(hour, centre, width) for height, centre, width in bumps)
    season = 1 + FAMILY_SEASON * math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365.25)
    return round(load * season * 0.25 * noise, 3)


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
    # Jonas's family house: a year and more of smart-meter history whose usage follows
    # the week, the seasons and the holidays; a monthly advance payment besides the
    # monthly invoices, which bill each quarter-hour at its price.
    jonas = Customer(
        "jonas",
        "Jonas",
        "Becker",
        "jonas@example.com",
        street="Lindenweg",
        house_number="7",
        zip="14467",
        city="Potsdam",
    )
    subscriptions.append(
        Subscription(
            "jonas-family",
            jonas,
            "J0N4SF4M",
            "smart",
            datetime(2025, 1, 1, tzinfo=UTC) - timedelta(hours=1),
            estimated_usage=4500,
            profile="family",
            prepayment=125.0,
        )
    )
    return [anna, ben, clara, david, emma, felix, greta, hanna, jonas], subscriptions
