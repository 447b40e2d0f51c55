"""Chinese labels for codes people read in the CLI, messages and reports."""

SEVERITY = {"veto": "单项否决", "high": "严重", "warning": "提醒", "info": "信息"}
KIND = {
    "stale": "超期未更新",
    "stale_soon": "即将超期",
    "fetch_failed": "抓取失败",
    "blocked": "被平台拦截",
    "gone": "账号或页面已不存在",
}
OUTCOME = {"ok": "正常", "not_found": "不存在", "blocked": "被拦截", "error": "抓取失败"}
PLATFORM = {
    "weibo": "微博",
    "wechat": "微信公众号",
    "douyin": "抖音",
    "toutiao": "今日头条",
    "bilibili": "哔哩哔哩",
    "kuaishou": "快手",
    "xiaohongshu": "小红书",
    "website": "网站",
    "app": "移动客户端",
    "other": "其他",
}
STATUS = {"open": "未解决", "resolved": "已解决", "active": "在用", "closed": "已关停"}


def label(table: dict[str, str], code: str) -> str:
    return table.get(code, code)
