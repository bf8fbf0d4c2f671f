"""A simulator of the Nomos energy API for tests, the demo and benchmarks."""

from .server import (
    ANALOG_CLIENT_ID,
    ANALOG_CLIENT_SECRET,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    PERSONAL_CLIENT_ID,
    PERSONAL_CLIENT_SECRET,
    Clock,
    Fault,
    NomosSimulator,
)

__all__ = [
    "ANALOG_CLIENT_ID",
    "ANALOG_CLIENT_SECRET",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "PERSONAL_CLIENT_ID",
    "PERSONAL_CLIENT_SECRET",
    "Clock",
    "Fault",
    "NomosSimulator",
]
