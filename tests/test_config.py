import subprocess
import sys
from pathlib import Path

import pytest

from monitor.config import ConfigError, load_settings


def test_no_file_gives_working_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    s = load_settings(None)
    assert s.database_url == f"sqlite:///{tmp_path / 'xuncha' / 'xuncha.db'}"
    assert s.patrol.default_interval_minutes == 60


def test_environment_overrides_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text(
        '[database]\nurl = "sqlite:///file.db"\necho = true\n[channels]\nops = "json://file"\n'
    )
    monkeypatch.setenv("XUNCHA_DATABASE__URL", "sqlite:///env.db")
    monkeypatch.setenv("XUNCHA_CHANNELS__OPS", "json://secret-from-env")
    s = load_settings(cfg)
    assert s.database_url == "sqlite:///env.db"
    assert s.database.echo is True  # the rest of the file still applies
    assert s.channels["ops"] == "json://secret-from-env"


def test_typo_in_config_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text("[patrol]\ndefault_interval_minute = 5\n")
    with pytest.raises(ConfigError, match=r"patrol\.default_interval_minute"):
        load_settings(cfg)


def test_cli_reports_bad_config_with_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text("data_dir = [")
    r = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "accounts"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert "不是有效的 TOML" in r.stderr
    assert "Traceback" not in r.stderr
