"""Regenerate ``content_posts.json``: ``python tests/corpus/build_content.py``.

The content family's labelled posts (隐私泄露, 领导姓名职务, 错别字/规范表述, 娱乐化), written
as county and city accounts write them, with the traps that must stay clean: masked IDs,
hotlines, service phones, history quoting a former title, order numbers that look like IDs,
card-like numbers failing Luhn. Each case's ``expect`` is the list of rules it must trigger
(empty: clean); ``owner`` is the unit whose roster (``content_roster.csv``) applies. The file
is not named ``posts_*.json``: the commercial corpus stays its own.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import content_more

HERE = Path(__file__).parent
BASE = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 Asia/Shanghai
W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
rnd = random.Random(11643)


def rid(region: str = "520102", birth: str = "19870315", seq: str | None = None) -> str:
    """A resident ID with its right check character."""
    body = region + birth + (seq or f"{rnd.randint(0, 999):03d}")
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, W, strict=True)) % 11]


def bad_id(*a: str) -> str:
    good = rid(*a)
    wrong = "0" if good[-1] != "0" else "1"
    return good[:-1] + wrong


def card(prefix: str = "622848", length: int = 19) -> str:
    """A Luhn-valid card number."""
    body = prefix + "".join(str(rnd.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    for d in "0123456789":
        n = body + d
        total = 0
        for i, c in enumerate(reversed(n)):
            x = int(c)
            if i % 2:
                x = x * 2 - 9 if x > 4 else x * 2
            total += x
        if total % 10 == 0:
            return n
    raise AssertionError


def bad_card(*a: Any) -> str:
    good = card(*a)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def mobile() -> str:
    return f"1{rnd.choice('3456789')}{rnd.randint(0, 9)}{rnd.randint(0, 99999999):08d}"


NAMES = ["张某某", "李某", "王某芳", "刘某军", "陈某", "杨某华", "赵某", "黄某平", "周某", "吴某兰"]
PLACES = ["城关镇", "青山乡", "河西街道", "石门镇", "龙泉村", "新桥社区", "白云乡", "松林村"]


def case(cid: str, expect: list[str], category: str, text: str, *, title: str = "",
         owner: str = "qx", days: float = 0, note: str = "", platform: str = "weibo",
         ) -> dict[str, Any]:  # fmt: skip
    i = len(CASES)
    when = BASE - timedelta(days=days, hours=i % 7)
    if platform == "wechat":
        raw: dict[str, Any] = {
            "link": f"https://mp.weixin.qq.com/s/Ct{i:06d}",
            "ct": int(when.timestamp()),
            "title": title,
            "content": f'<div id="js_content">{text}</div>',
        }
    else:
        local = when + timedelta(hours=8)
        raw = {
            "id": str(4950000000000000 + i),
            "bid": f"C{i:07d}",
            "created_at": local.strftime("%a %b %d %H:%M:%S +0800 %Y"),
            "text": text,
            "source": "微博网页版",
        }
    c = {"id": f"content_{i:03d}_{cid}", "expect": sorted(set(expect)), "category": category,
         "owner": owner, "platform": platform, "raw": raw, "note": note}  # fmt: skip
    CASES.append(c)
    return c


CASES: list[dict[str, Any]] = []
ID, MOB, CARD = "privacy.id_card", "privacy.mobile", "privacy.bank_card"
RN, RT = "roster.name", "roster.title"
TYPO, EXPR, FUN = "wording.typo", "wording.expression", "entertainment"


def build() -> None:
    # -- resident IDs, unmasked ------------------------------------------------------------
    regions = ["520102", "522301", "520121", "110105", "440305", "330106", "510104", "620102",
               "522622", "520402", "370202", "430104"]  # fmt: skip
    for k in range(26):
        name, place = NAMES[k % len(NAMES)], PLACES[k % len(PLACES)]
        year = 1940 + (k * 3) % 70
        num = rid(regions[k % len(regions)], f"{year}{1 + k % 12:02d}{1 + k % 28:02d}")
        if k % 5 == 4:
            num = num[:-1] + num[-1].lower()
        forms = [
            f"【公示】{place}2026年第四季度城乡低保拟纳入对象公示：户主{name}，身份证号{num}，"
            f"家庭人口3人。公示期7天，如有异议请向镇民政办反映。",
            f"关于{place}临时救助对象的公示\n姓名：{name}\n身份证号码：{num}\n救助金额：1500元",
            f"寻人启事：{name}，男，身份证{num}，于11月18日走失，身穿灰色外套，知情者请与派出所联系。",
            f"经审核，以下人员符合高龄补贴发放条件：{name}（{num}），{place}。",
            f"失信被执行人名单（第12批）：被执行人{name}，证件号码 {num}，未履行金额3.2万元。",
            f"{place}2026年度残疾人两项补贴名单 序号1 {name} {num} 一级",
        ]
        wx = k % 3 == 0
        case("id_card", [ID], "id_card", forms[k % len(forms)], days=k % 9,
             platform="wechat" if wx else "weibo", title=f"{place}公示" if wx else "")  # fmt: skip

    # -- mobile numbers next to a person ------------------------------------------------------
    for k in range(20):
        name, place, m = NAMES[k % len(NAMES)], PLACES[(k + 3) % len(PLACES)], mobile()
        shown = m if k % 4 else f"{m[:3]}-{m[3:7]}-{m[7:]}"
        forms = [
            f"{place}拟享受危房改造补助对象公示：户主{name}，住址{place}3组，联系电话{shown}。",
            f"中奖名单公布！一等奖：{name}，手机号码：{shown}，请于三日内到现场领取。",
            f"今日确诊患者{name}，现住{place}，手机{shown}，请密接人员主动报备。",
            f"失物招领：本站拾到身份证一张，姓名{name}，失主电话{shown}，请本人前来认领。",
            f"申请人：{name}；性别：女；联系方式：{shown}；申请事项：营业执照变更。",
        ]
        case("mobile", [MOB], "mobile", forms[k % len(forms)], days=k % 8)
    # an ID and a phone in one notice
    num, m = rid("520103", "19790606"), mobile()
    text = f"公益性岗位拟录用人员公示：姓名{NAMES[0]}，身份证号{num}，手机{m}，岗位保洁员。"
    case("id_and_mobile", [ID, MOB], "id_card", text)

    case("mobile_plus86", [MOB], "mobile",
         f"寻亲启事：家属王某，联系电话+86{mobile()}，望知情者告知。")  # fmt: skip
    num = rid("522301", "19660412")
    spaced = f"{num[:6]} {num[6:14]} {num[14:]}"
    text = f"临时救助公示：户主李某，身份证号 {spaced}，救助金额800元。"
    miss = "written in groups: a known miss (only an unbroken 18-character number is read)"
    case("id_spaced", [ID], "id_card", text, note=miss)

    # -- bank cards ---------------------------------------------------------------------------
    bins = [("622848", 19), ("621700", 19), ("622202", 19), ("436742", 16), ("520169", 16),
            ("625965", 16), ("621661", 19), ("622588", 16)]  # fmt: skip
    for k in range(16):
        name, c = NAMES[(k + 5) % len(NAMES)], card(*bins[k % len(bins)])
        shown = c if k % 3 else " ".join(c[i : i + 4] for i in range(0, len(c), 4))
        forms = [
            f"2026年耕地地力保护补贴发放明细：户主{name}，银行卡号{shown}，补贴金额860元。",
            f"请以下学生家长核对助学金打卡信息：学生{name}，家长账号{shown}，开户行农商银行。",
            f"退役军人优待金发放：{name}，社保卡号 {shown}，金额2400元。",
            f"工资代发名单：{name} 卡号：{shown} 应发 3200.00",
        ]
        case("bank_card", [CARD], "bank_card", forms[k % len(forms)], days=k % 6)

    # -- leaders' names and titles by the roster ------------------------------------------------
    name_errors = [
        ("县长李明元主持召开县政府第十八次常务会议，研究部署冬季安全生产工作。", "qx"),
        ("县委书记王建图深入城关镇调研乡村振兴工作。", "qx"),
        ("副县长陈晓娟带队检查全县中小学校园安全。", "qx"),
        ("常务副县长张玮出席全县招商引资推进会并讲话。", "qx"),
        ("县委书记汪建国会见来访的省农业农村厅调研组一行。", "qx"),
        ("李名远县长一行到县人民医院看望慰问一线医护人员。", "qx"),
        ("陈晓每副县长主持召开全县防汛抗旱工作会议。", "qx"),
        ("县政协主席孙丽花带队视察城区老旧小区改造项目。", "qx"),
        ("市长赵得明主持召开市政府常务会议。", "city"),
        ("市委书记周海滔到青溪县调研工业园区建设。", "city"),
        ("11月19日，县长李明圆带队督导秋冬季森林防火工作。", "qx"),
        ("全县经济工作会议召开，县委书记王建囯作重要讲话，县长李明远作工作部署。", "qx"),
        ("市委书记周海涛、市长赵德民一行到园区调研。", "city"),
        ("周海涛市委书记、赵德铭市长出席签约仪式。", "city"),
        ("县委书记王健国主持召开县委常委会会议。", "qx"),
        ("县长季明远在全县重点项目观摩会上强调，要抢抓工期。", "qx"),
    ]
    for k, (text, owner) in enumerate(name_errors):
        case("roster_name", [RN], "roster_name", text, owner=owner, days=k % 5)
    title_errors = [
        "县长王建国主持召开全县民生实事推进会。",
        "11月18日，王建国县长带队检查安全生产工作。",
        "县委副书记刘志强出席全县基层党建工作推进会。",
        "会上，县长王建国对下一步工作提出三点要求。",
        "刘志强县委副书记深入河西街道调研社区治理。",
        "县长王建国、副县长陈晓梅参加义务植树活动。",
        "县长王建国一行到青山乡看望慰问困难群众。",
        "县委副书记刘志强主持召开信访工作联席会议。",
        "本次会议由县长王建国主持。",
        "县长王建国在会上强调，要以钉钉子精神抓好落实。",
    ]
    for k, text in enumerate(title_errors):
        case("roster_title", [RT], "roster_title", text, days=k % 4)

    # -- 错别字 and 规范表述 -----------------------------------------------------------------------
    typos = [
        "全县上下要再接再励，确保完成全年目标任务。",
        "项目建设一股作气，力争年底前主体完工。",
        "群众迫不急待地走进新建成的便民服务中心。",
        "夜幕降临，城区灯光秀美仑美奂，吸引众多市民驻足。",
        "工作人员正在为村民按装净水设备。",
        "这场演出令人震憾，赢得现场观众阵阵掌声。",
        "会议对下一阶段重点工作进行了布署。",
        "我们将一如继往支持民营企业发展。",
        "县领导坐阵指挥，确保救援工作有序推进。",
        "要坚决防止出现一愁莫展、推诿扯皮的现象。",
        "全县党员干部要以身做则，带头移风易俗。",
        "新春佳节，村里张灯接彩，年味渐浓。",
        "各单位要励行节约，反对铺张浪费。",
        "青溪人才倍出，近年来涌现出一批技术能手。",
        "活动现场，孩子们兴高彩烈地参与各项游戏。",
    ]
    for k, text in enumerate(typos):
        case("typo", [TYPO], "typo", text, days=k % 6)
    expressions = [
        "全县深入开展“两学一作”学习教育常态化制度化。",
        "编制好“十四·五”规划，谋划一批重大项目。",
        "我县“十五.五”规划纲要编制工作正式启动。",
        "坚定三个自信，牢记初心使命。",
        "积极融入一带一路战略，扩大对外开放。",
        "某台湾总统候选人的言论遭到两岸同胞批评。",
        "学习习近平新时代中国特色的社会主义思想，推动工作落实。",
        "做到两个坚决维护，始终在思想上政治上行动上同党中央保持高度一致。",
        "全国人大委员长一行到我省调研。",
        "扎实推进十四、五规划重点项目建设。",
    ]
    for k, text in enumerate(expressions):
        case("expression", [EXPR], "expression", text, days=k % 6)
    fun = [
        "家人们，今天带大家打卡青溪最美乡村，绝绝子！",
        "集美们看过来，县图书馆新馆开放啦～",
        "这波政务服务yyds！跑一次就办好了。",
        "看到这组老照片，我直接蚌埠住了。",
        "宝子们，冬季用电安全知识get起来！",
        "我县特色农产品YYDS，欢迎品尝。",
        "老铁们，家门口的公园建好了，冲鸭！",
        "一整个爱住！青溪的秋天太美了。",
        "退退退！电信诈骗离我远点。",
        "爷青回！县城老电影院重新开放。",
    ]
    for k, text in enumerate(fun):
        case("entertainment", [FUN], "entertainment", text, days=k % 6)

    # -- clean traps ------------------------------------------------------------------------
    traps = [
        ("masked_id", "低保对象公示：户主张某某，身份证号5201**********1234，家庭人口3人。"),
        ("masked_id", "获奖名单：李某 520102********4512 王某 5223**********0021"),
        ("masked_phone", "中奖名单：一等奖 张某 138****5678，请尽快领取。"),
        ("masked_card", "补贴已发放至户主王某银行卡（卡号6228 **** **** 1234），请注意查收。"),
        ("hotline", "有困难，找12345！12345政务服务便民热线24小时为您服务。"),
        ("hotline", "如有疑问请拨打0851-12345咨询。"),
        ("hotline", "本次招聘咨询电话：0851-85551234，联系人：王老师。"),
        ("service_phone", "户籍业务咨询电话：13885012345（工作日9:00-17:00）。"),
        ("service_phone", "冬季供暖服务热线13985011234，24小时值守。"),
        ("service_phone", "低保政策咨询电话13708501234，欢迎群众来电。"),
        ("service_phone", "如需帮助可拨打求助电话13595012345，工作人员将及时处理。"),
        ("service_phone", "本次考试报名电话：18685012345（县人社局）。"),
        ("staff_phone", "联系人：县住建局 李工，联系电话：13608511234。"),
        ("history", "2019年时任县长王建国到青山乡调研，当年的项目如今已建成投用。"),
        ("history", "原县长王建国同志先进事迹报告会在县委党校举行。"),
        ("history", "2023年，县长王建国带队赴浙江考察，促成了园区首个东部合作项目。"),
        ("history", "回顾：2024年春，县委副书记刘志强在这里主持了首次议事会。"),
        ("roster_ok", "县委书记王建国主持召开县委常委会会议，传达学习全会精神。"),
        ("roster_ok", "县长李明远主持召开县政府常务会议。"),
        ("roster_ok", "副县长陈晓梅带队开展食品安全检查。"),
        ("roster_ok", "常务副县长张伟出席项目集中开工仪式。"),
        ("roster_ok", "县长办公会议研究了城区停车难问题。"),
        ("roster_ok", "县长热线：0851-88888888，受理群众诉求。"),
        ("roster_ok", "市委书记周海涛、市长赵德明出席开幕式。"),
        ("order_number", f"订单号：{bad_id('440305', '20261119')}，请凭订单号到窗口取件。"),
        ("order_number", f"您的业务受理编号为{bad_id('520102', '19991231')}，可在网上查询进度。"),
        ("order_number", f"交易流水号 {rid('520102', '20260101')} 已退款。"),
        ("id_like", f"项目编码 {bad_id('522301', '19850101')}，请在系统中核对。"),
        ("id_like", "批准文号：520102198713250012（该数字含不存在的日期）"),
        ("id_like", "第520102203001011234号决定书（出生年份在未来，不是身份证号）"),
        ("luhn_fail", f"户主张某补贴已打入银行卡号{bad_card('622848', 19)}，请查收。"),
        ("luhn_fail", f"学生资助卡号：{bad_card('621700', 19)}（号码有误，待核实）"),
        (
            "public_account",
            f"捐款账户：{card('622848', 19)}，户名：青溪县红十字会，开户行农业银行。",
        ),
        ("public_account", f"非税收入汇缴账户 账号{card('621661', 19)}，收款单位：青溪县财政局。"),
        ("card_no_context", f"本期彩票开奖号码 {card('436742', 16)}，以官方公布为准。"),
        ("typo_trap", "请按装修合同约定时间完成施工，按装配式建筑标准验收。"),
        ("typo_trap", "既使群众满意，又使企业放心，是我们的工作目标。"),
        ("typo_trap", "截止11月20日，全县已完成秋播面积12万亩。"),
        ("fun_trap", "详见 https://example.gov.cn/yydsx/notice 的公告。"),
        ("fun_trap", "广大家长们请注意，寒假安全提示如下。"),
        ("expression_ok", "“十四五”规划实施以来，全县经济社会发展取得新成效。"),
        ("expression_ok", "“两学一做”学习教育常态化制度化持续推进。"),
        ("expression_ok", "坚定“四个自信”，做到“两个维护”。"),
        ("expression_ok", "共建“一带一路”倡议提出十三周年。"),
        ("number_mix", "全县GDP达到128.6亿元，同比增长6.2%，总人口13856201人。"),
        ("number_mix", "统一社会信用代码：91520102MA6DL1234X"),
        ("number_mix", "座机：0851-86661234，传真：0851-86661235"),
    ]
    for cat, text in traps:
        case(cat, [], "trap", text)
    plain = [
        "【天气预报】今天白天多云转小雨，气温12-18℃，出行请携带雨具。",
        "我县召开2026年第四季度经济运行分析会。",
        "今年以来，全县累计新增城镇就业1.2万人。",
        "冬季森林防火期已至，严禁野外用火。",
        "县政务服务中心推出“周末不打烊”服务。",
        "全县秋冬季义务植树活动启动，共栽植苗木3万余株。",
        "关于2026年度城乡居民医疗保险集中缴费的通知：缴费截止时间为12月31日。",
        "县人民医院开展义诊进社区活动，服务群众500余人次。",
        "青溪县第二届农民丰收节开幕，现场展销特色农产品。",
        "今天是全国消防日，一起学习家庭防火小知识。",
        "县图书馆新馆正式开放，馆藏图书20万册。",
        "寒潮来袭，请注意防寒保暖，做好农作物防冻措施。",
        "县委理论学习中心组召开专题学习会。",
        "全县中小学开展防溺水安全教育主题班会。",
        "政策解读：《关于进一步优化营商环境的若干措施》。",
        "我县顺利通过国家卫生县城复审。",
        "青山乡龙泉村入选省级美丽乡村示范村。",
        "县市场监管局开展冬季食品安全专项检查。",
        "城区3条道路完成提质改造，即日起恢复通行。",
        "县人社局举办2026年冬季招聘会，提供岗位1200个。",
        "交警提示：雨雪天气请减速慢行，保持安全车距。",
        "全县粮食总产量达到18.6万吨，实现“二十二连丰”。",
        "青溪县融媒体中心招聘编辑记者5名，报名时间为11月21日至30日。",
        "乡村振兴专题培训班开班，学员120名。",
        "县税务局开展“便民办税春风行动”。",
        "城关镇新建3个社区养老服务站投入使用。",
        "县第一中学在全省青少年科技创新大赛中获一等奖。",
        "本周六上午，县体育馆将举办全民健身运动会。",
        "全县公立医院实现检查检验结果互认。",
        "县供电公司提醒：11月25日8:00至18:00，部分区域计划停电。",
    ]
    for k, text in enumerate(plain):
        wx = k % 4 == 0
        case("plain", [], "plain", text, days=k % 10,
             platform="wechat" if wx else "weibo", title="政务动态" if wx else "")  # fmt: skip


def main() -> None:
    build()
    content_more.add(case, rid)  # issue 29: the cited wrong forms, their traps, plain posts
    path = HERE / "content_posts.json"
    path.write_text(json.dumps(CASES, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{path.name}: {len(CASES)} cases")


if __name__ == "__main__":
    main()
