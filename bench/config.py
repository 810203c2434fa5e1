"""How much each scenario measures: the full run and ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    quick: bool = False
    #: Rounds override (``--rounds``); None: each scenario's own default.
    rounds: int | None = None
    #: Try ``apt-get install wrk`` when no load generator is on PATH.
    install: bool = True
    #: Seconds per load-generator run in scenario 3 (``--seconds``); None: its own.
    seconds: int | None = None

    def r(self, full: int, quick: int) -> int:
        """Number of rounds of a scenario."""
        if self.rounds is not None:
            return self.rounds
        return quick if self.quick else full

    def n(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def s(self, full: int, quick: int) -> int:
        """Seconds per load-generator run (scenario 3)."""
        if self.seconds is not None:
            return self.seconds
        return quick if self.quick else full
