"""The alerting stages' slice of the settings (``monitor.alerting.settings``)."""

from __future__ import annotations

from pathlib import Path

from monitor.alerting.settings import AlertingSettings
from tests.conftest import make_settings


def test_the_slice_is_what_alerting_reads_and_shares_its_tables(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        timezone="Asia/Urumqi",
        channels={"duty": "json://127.0.0.1:9/duty"},
        rulesets={"county": {"title": "县级", "extends": "national"}},
    )
    a = AlertingSettings.of(settings)
    assert (a.node_name, a.timezone) == ("test-node", "Asia/Urumqi")
    assert a.session_key_file == settings.session_key_file
    assert a.channel_url("@duty") == "json://127.0.0.1:9/duty"
    assert a.channel_url("@nobody") is None
    assert a.channel_url("json://127.0.0.1:9/x") == "json://127.0.0.1:9/x"  # a literal URL
    # the tables are the settings' own, not copies: a test (or the CLI) that adds a channel
    # to the settings finds it in the slice
    settings.channels["late"] = "json://127.0.0.1:9/late"
    assert a.channel_url("@late") == "json://127.0.0.1:9/late"
    assert a.alerts is settings.alerts
    # the rule sets are loaded once, built-ins with the configured ones over them
    assert a.rulesets is a.rulesets and "county" in a.rulesets and "national" in a.rulesets


def test_a_bare_slice_needs_no_config_file() -> None:
    a = AlertingSettings()
    assert a.alerts.enabled and a.channel_url("@x") is None and "national" in a.rulesets
