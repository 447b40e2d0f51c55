"""``xuncha db``: move an installation's data to another database (``db_copy.py``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from monitor.cli.chinese import Typer
from monitor.cli.common import EXIT_USAGE, fail, no_database, out, print_json, state
from monitor.cli.options import JsonOpt

app = Typer(help="数据库：把数据迁移到另一个数据库（如从 SQLite 到 PostgreSQL）。")


@app.command("copy")
def copy_cmd(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to", metavar="URL", help="目标数据库，如 postgresql+psycopg://用户@主机/库名"
        ),
    ],
    blobs: Annotated[
        bool,
        typer.Option(
            "--blobs/--no-blobs",
            help='把证据文件也复制进目标数据库（目标节点用 [blobs] backend = "database" 时）',
        ),
    ] = False,
    batch: Annotated[int, typer.Option("--batch", min=1, help="每批行数")] = 1000,
    as_json: JsonOpt = False,
) -> None:
    """把当前数据库复制到另一个已初始化的空数据库，并核对每张表的行数。

    目标数据库须先用 xuncha init 建好结构（见 docs/scale-out.md）。
    """
    import sqlalchemy as sa
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlalchemy.engine import make_url

    from monitor.cli.db_copy import CopyError, copy_database
    from monitor.store.blobs import BlobStore

    settings = state(ctx).settings
    console = out(ctx)
    try:
        target_url = make_url(to)
    except sa.exc.ArgumentError:
        fail(f"目标数据库 URL 无法识别：{to}", EXIT_USAGE)
    if target_url.render_as_string(hide_password=False) == settings.database_url:
        fail("目标数据库就是当前数据库", EXIT_USAGE)
    if why := no_database(settings):
        fail(why)
    source = _open(settings.database_url)
    target = _open(to, "请检查 --to 的地址与目标数据库服务")  # each named if it cannot be used
    files = BlobStore(settings.blob_path) if blobs else None
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(table: str, done: int, total: int) -> None:
                if table not in tasks:
                    tasks[table] = bar.add_task(table, total=total)
                bar.update(tasks[table], completed=done)

            report = copy_database(source, target, batch=batch, blob_files=files, progress=progress)
    except CopyError as e:
        fail(str(e))
    finally:
        source.dispose()
        target.dispose()
    where = target_url.render_as_string(hide_password=True)
    if as_json:
        print_json(
            {
                "target": where,
                "tables": [
                    {"table": r.table, "source": r.source, "target": r.target} for r in report
                ],
            }
        )
        return
    total = sum(r.copied for r in report)
    console.print(f"已复制 {len(report)} 张表共 {total} 行到 {where}，行数核对一致。")


def _open(url: str, hint: str | None = None) -> Any:
    """An engine on ``url`` that has answered once, or a one-line error naming it."""
    from sqlalchemy import text

    from monitor.store.engine import CONFIG_HINT, database_problem, make_engine

    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:
        if (why := database_problem(e, url, hint or CONFIG_HINT)) is None:
            raise
        fail(why)
    return engine
