"""What the unit should do about a finding, said in one line.

Keyed by the finding's kind (the codes of ``probes.checks.kinds``, which this package does not
import: the notice carries the code and the 问题类别), falling back to its category, then to
a plain "核实并整改", so a kind added later still reads sensibly. ``tests/test_messages_golden.py``
holds that every kind in the catalogue has its own line here.
"""

from __future__ import annotations

from alerts.notice import FindingNotice

BY_KIND = {
    "stale": "立即发布一条新内容（置顶内容不计入更新）；账号确已停用的，请按程序关停并报备",
    "stale_soon": "在期限前发布一条新内容（置顶内容不计入更新）",
    "infrequent": "本周内补足规定的更新条数（置顶内容不计入），补足后自动恢复",
    "commercial": "删除或修改所列内容，撤下指向电商、广告的链接",
    "commercial_review": "复核所列内容：属商业推广的删除或修改；"
    "属公益或政务服务的，确认后在控制台注明",
    "theft": "立即核实账号控制权：修改密码，检查绑定手机和登录设备，删除非本单位发布的内容；"
    "确认被盗的，联系平台冻结账号并报告主管单位",
    "no_interaction": "开启评论或留言功能，或在简介中提供其他有效的互动渠道",
    "interaction_unanswered": "逐条回复所列公众提问（在该条评论下回复或点名回复提问人），"
    "并明确专人按时回复公众留言",
    "interaction_late": "所列提问已回复但超过时限：明确专人值守评论区，按时回复公众留言",
    "privacy": "立即删除或修改所列内容，将身份证号、手机号、银行卡号脱敏后再发布",
    "roster_error": "核对领导姓名和职务，更正所列内容",
    "wording": "更正所列错别字或不规范表述",
    "entertainment_review": "复核所列表述，不妥的改用规范书面语",
    "gone": "核实账号状况：被平台封禁的请申诉；已依规关停的请在登记表中注销；"
    "更换了地址的请更新登记表",
    "app_download_unreachable": "检查客户端下载地址和服务器，尽快恢复安装包下载",
    "app_not_apk": "检查下载地址，确保直接提供有效的安装包",
    "app_hijacked": "立即停用被劫持的下载地址并排查域名解析，在官网公布正确的下载方式",
    "app_foreign_redirect": "核实下载跳转到的域名；不是本单位的，立即修正下载地址",
    "app_tls": "更换或续期下载地址的 HTTPS 证书",
    "app_package_mismatch": "核实安装包来源；包名确有变更的，请更新登记表",
    "app_signer_changed": "立即核实安装包是否被篡改或仿冒并撤下可疑安装包；"
    "属正常更换签名的，请告知运维人员重新登记",
    "app_signer_pinned": "无需处理：已记录客户端的签名证书，今后按此核对",
    "app_store_missing": "在所列应用商店重新上架，或在登记表中注明不再上架",
}

# our own fetch problems: nothing the unit did wrong, nothing it must fix — told to ops only
# (``alerts.routing.plan``), so said to them: what to look at, and that the unit was not told
PATROL = (
    "运维排查：检查该账号的地址、读取方式和登录会话，核实平台是否改版或限制访问；"
    "账号已停用、改名或更换了地址的，更新登记表。未通知主办单位，主办单位无需整改"
)

BY_CATEGORY = {
    "update": "发布新内容",
    "ads": "删除或修改含广告的内容",
    "interaction": "提供有效的互动功能",
    "vetting": "更正所列内容",
    "entertainment": "复核所列表述",
    "privacy": "删除或修改所列内容，脱敏后再发布",
    "theft": "立即核实账号控制权",
    "install": "检查并修复客户端的下载",
    "access": "核实账号是否仍可访问",
    "patrol": PATROL,
}


def advice(n: FindingNotice) -> str:
    """What the owner unit should do (for a supervisor, ``supervisor_advice``)."""
    if n.category == "patrol":
        return PATROL
    return BY_KIND.get(n.kind) or BY_CATEGORY.get(n.category) or "核实情况并整改"


def supervisor_advice(n: FindingNotice) -> str:
    unit = n.unit_name or n.unit_code or "主办单位"
    return f"督促{unit}整改：{advice(n)}"
