"""``shipyard doctor``: a static production-readiness audit of any repository.

:func:`audit` runs every registered check (built-in and plugins) and returns an :class:`Audit`;
:mod:`.formats` turns it into a table, JSON, Markdown, SARIF or one HTML file. The library never prints.
"""

from __future__ import annotations

from .registry import Check, Outcome, Result, check, failed, not_applicable, partial, passed
from .runner import Audit, CheckResult, DoctorConfig, audit, read_config

__all__ = ["Audit", "Check", "CheckResult", "DoctorConfig", "Outcome", "Result", "audit", "check", "failed",
           "not_applicable", "partial", "passed", "read_config"]
