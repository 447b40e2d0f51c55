"""Users keep their own lists (issue 29): a directory in the installation's data dir, the
shape of ``probes/data``, laid over the shipped lists; ``[content]`` keys; ``xuncha lists
show|check|try``; the registry workbook carries the roster."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from monitor.cli import app as cli
from monitor.registry.template import write_template
from probes.checks import evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.lists import default_lists, load_lists
from probes.checks.rules import BUILTIN_RULESETS
from probes.checks.wording import scan
from probes.model import Observation, Outcome, Post
from tests.conftest import make_settings, open_app

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DAY = date(2026, 11, 20)


def own_lists(root: Path) -> Path:
    (root / "content").mkdir(parents=True)
    (root / "roster").mkdir()
    (root / "lexicons").mkdir()
    (root / "content" / "typos.txt").write_text(
        "@版本 2026-1\n@来源 青溪县融媒体中心《稿件校对规范》（2026年第1版）\n"
        "青溪县政付\t青溪县政府\n-再接再励\n",
        encoding="utf-8",
    )
    (root / "roster" / "qx.csv").write_text(
        "单位编码,姓名,职务,任职起始,任职截止\nqx-gov,欧阳明月,县长,2026-01-01,\n", encoding="utf-8"
    )
    (root / "lexicons" / "welfare.txt").write_text("菌菇节\n", encoding="utf-8")
    return root


def test_a_users_lists_lay_over_the_shipped_ones(tmp_path: Path) -> None:
    mine = load_lists(own_lists(tmp_path / "lists"))
    assert mine.problems == [] and mine.version != default_lists().version
    (hit,) = scan("青溪县政付发布通知：要再接再励。", mine.wording)
    assert hit.entry.where == "用户 content/typos.txt:3"
    assert hit.entry.source.startswith("青溪县融媒体中心")
    assert len(scan("要再接再励", default_lists().wording)) == 1  # the shipped entry, dropped
    errs = mine.roster.check("qx-gov", "县长欧阳名月出席", DAY)
    assert [(e.rule, e.where) for e in errs] == [("roster.name", "roster/qx.csv:2")]
    assert len(mine.roster) == len(default_lists().roster) + 1  # added to the shipped roster
    # a shipped file can be left out: the demo's fictional roster
    off = load_lists(tmp_path / "lists", disable=["roster/demo.csv"])
    assert len(off.roster) == 1
    assert not any(s.name == "roster/demo.csv" for s in off.sources)


def test_mistakes_in_a_users_file_are_said_and_the_rest_is_used(tmp_path: Path) -> None:
    root = own_lists(tmp_path / "lists")
    (root / "content" / "taboo.txt").write_text("无出处的词\t另一个词\n", encoding="utf-8")
    (root / "roster" / "bad.csv").write_text(
        "单位编码,姓名,职务,任职起始,任职截止\nqx-gov,张三,局长,2026/1/1,\n", encoding="utf-8"
    )
    (root / "content" / "notes.txt").write_text("随手记\n", encoding="utf-8")
    lists = load_lists(root)
    said = "\n".join(lists.problems)
    assert "用户 content/taboo.txt 第 1 行" in said and "来源" in said
    assert "用户 roster/bad.csv" in said and "YYYY-MM-DD" in said
    assert "用户 content/notes.txt：不认识的文件名" in said
    assert len(scan("青溪县政付", lists.wording)) == 1  # the good file still works


def test_the_app_judges_by_the_users_lists_and_an_edit_is_seen(tmp_path: Path) -> None:
    root = own_lists(tmp_path / "mine")
    app = open_app(make_settings(tmp_path, content={"lists_dir": str(root)}))
    try:
        before = app.judged_with
        post = Post("p", NOW, text="青溪县政付召开会议，县长欧阳名月出席。")
        obs = Observation("a", "rss", "", NOW, Outcome.ok, posts=[post])
        sigs = evaluate(obs, ruleset=BUILTIN_RULESETS["national"], calendar=WorkCalendar(),
                        now=NOW, owner_code="qx-gov", lists=app.word_lists)  # fmt: skip
        assert {s.kind for s in sigs} >= {"wording", "roster_error"}
        (root / "content" / "typos.txt").write_text(
            "@来源 本县规范\n召开会仪\t召开会议\n", encoding="utf-8"
        )
        app.__dict__.pop("judged_with")  # what a reload does
        assert app.judged_with != before  # every page is read in full again
        app.__dict__.pop("word_lists")
        sigs = evaluate(obs, ruleset=BUILTIN_RULESETS["national"], calendar=WorkCalendar(),
                        now=NOW, owner_code="qx-gov", lists=app.word_lists)  # fmt: skip
        assert "wording" not in {s.kind for s in sigs}  # the edited list, not a memo of the old
    finally:
        app.close()


def run(tmp_path: Path, *args: str, **more: str) -> tuple[int, str]:
    env = {"XUNCHA_DATA_DIR": str(tmp_path / "data"), "XUNCHA_CLOCK": "2026-11-20T10:00:00+08:00"}
    env |= more
    r = CliRunner().invoke(cli, list(args), env=env)
    return r.exit_code, r.output


def test_lists_show_check_and_try(tmp_path: Path) -> None:
    own_lists(tmp_path / "data" / "lists")
    code, out = run(tmp_path, "lists", "show", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["lists_dir"] == str(tmp_path / "data" / "lists")
    mine = [f for f in shown["files"] if f["origin"] == "用户"]
    assert [f["name"] for f in mine] == [
        "content/typos.txt",
        "lexicons/welfare.txt",
        "roster/qx.csv",
    ]
    assert mine[0]["entries"] == 1 and mine[0]["version"] == "2026-1"
    assert run(tmp_path, "lists", "check")[0] == 0
    code, out = run(tmp_path, "lists", "try", "青溪县政付通知：县长欧阳名月要求截止目前完成。",
                    "--unit", "qx-gov")  # fmt: skip
    assert code == 0
    assert "错别字「青溪县政付」" in out and "用户 content/typos.txt:3" in out
    assert "领导姓名错误「县长欧阳名月」" in out and "roster/qx.csv:2" in out
    assert "截至目前" in out and "现代汉语词典" in out
    code, out = run(tmp_path, "lists", "try", "乡村振兴工作推进会召开", "--json")
    assert json.loads(out)["commercial"]["level"] is None
    (tmp_path / "data" / "lists" / "content" / "taboo.txt").write_text("某词\t另词\n", "utf-8")
    code, out = run(tmp_path, "lists", "check")
    assert code == 1 and "content/taboo.txt 第 1 行" in out


def test_the_registry_workbook_carries_the_roster(tmp_path: Path) -> None:
    book = tmp_path / "registry.xlsx"
    write_template(book)
    assert run(tmp_path, "init")[0] == 0
    code, out = run(tmp_path, "registry", "import", str(book))
    assert code == 0, out
    written = tmp_path / "data" / "lists" / "roster" / "registry.csv"
    assert "领导名册 3 条已写入" in out and written.exists()
    # the demo's fictional roster names the template's units too: left out by [content]
    off = {"XUNCHA_CONTENT__DISABLE": '["roster/demo.csv"]'}
    code, out = run(tmp_path, "lists", "try", "县长王建国主持会议", "--unit", "yl-qx", **off)
    assert "领导职务已变更" in out and "roster/registry.csv:3" in out
    # exported back as the same sheet
    assert run(tmp_path, "registry", "export", str(tmp_path / "back.xlsx"))[0] == 0
    back = load_workbook(tmp_path / "back.xlsx")
    assert back.sheetnames == ["单位", "账号", "领导名册"]
    assert back["领导名册"]["B2"].value == "王建国"
    # a bad row: nothing is imported, the roster the last import wrote stays
    wb = load_workbook(book)
    wb["领导名册"].append(["no-such-unit", "张三", "局长", "2026-13-01", ""])
    wb.save(book)
    code, out = run(tmp_path, "registry", "import", str(book))
    assert code == 2
    assert "[领导名册]:5:单位编码: 没有编码为 no-such-unit 的单位" in out
    assert "[领导名册]:5:任职起始: 日期应写作 YYYY-MM-DD" in out
    assert written.read_text(encoding="utf-8").count("\n") == 5  # comment, header, three rows
