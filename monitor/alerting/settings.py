"""The part of the settings the alerting stages read, and nothing else.

Alerting reads ``[alerts]``, ``[channels]``, the node's name and the zone — plus the rule
sets (a rule in words in a notice) and the key file that signs 已整改 links. Handed this
slice instead of the whole ``Settings``, a stage says in its signature what it depends on,
and a test builds one without a config file. Built once per pass by the room's doors
(``dispatch_once``, ``enqueue``) or by a caller outside that tells ops something.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from monitor.config import AlertsConfig, Settings, resolve_channel
from probes.checks.rules import RuleSet, load_rulesets


@dataclass(frozen=True)
class AlertingSettings:
    """``[alerts]`` and ``[channels]`` shared with the settings they came from (a reload
    builds a new slice), the node, the zone, the rule tables and the link key's file."""

    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    channels: Mapping[str, str] = field(default_factory=dict)
    node_name: str = ""
    timezone: str = "Asia/Shanghai"
    ruleset_tables: Mapping[str, Any] = field(default_factory=dict)  # [rulesets] as written
    session_key_file: Path = Path("session.key")

    @classmethod
    def of(cls, settings: Settings) -> AlertingSettings:
        return cls(
            alerts=settings.alerts,
            channels=settings.channels,
            node_name=settings.node_name,
            timezone=settings.timezone,
            ruleset_tables=settings.rulesets,
            session_key_file=settings.session_key_file,
        )

    def channel_url(self, channel: str) -> str | None:
        """``@name`` through ``[channels]``; a literal URL as is."""
        return resolve_channel(self.channels, channel)

    @cached_property
    def rulesets(self) -> dict[str, RuleSet]:
        """The rule sets, loaded once for this slice (every notice names its rule)."""
        return load_rulesets(self.ruleset_tables)
