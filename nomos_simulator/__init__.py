"""A simulator of the Nomos energy API for tests, the demo and benchmarks."""

from .server import NomosSimulator
from .state import (
    ALL_CUSTOMERS,
    ANALOG_CLIENT_ID,
    ANALOG_CLIENT_SECRET,
    API_VERSION,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    ORGANISATION_CLIENT_ID,
    ORGANISATION_CLIENT_SECRET,
    PERSONAL_CLIENT_ID,
    PERSONAL_CLIENT_SECRET,
    Clock,
    Fault,
)

__all__ = [
    "ALL_CUSTOMERS",
    "ANALOG_CLIENT_ID",
    "ANALOG_CLIENT_SECRET",
    "API_VERSION",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "ORGANISATION_CLIENT_ID",
    "ORGANISATION_CLIENT_SECRET",
    "PERSONAL_CLIENT_ID",
    "PERSONAL_CLIENT_SECRET",
    "Clock",
    "Fault",
    "NomosSimulator",
]
