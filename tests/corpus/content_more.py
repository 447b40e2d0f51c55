"""The content corpus's second half (issue 29): the wrong forms style guides and inspection
reports cite again and again, each with the traps that must stay clean — the same form
quoted and corrected, a longer right word that holds it, the right order, the right level —
and ordinary posts as county and city accounts write them (news, notices, services), so
that false alarms are measured on what an account really publishes.

``add(case, rid, mobile)`` appends the cases with ``build_content.case``; the rules a case
must trigger are named as there (``[]``: clean).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ID, MOB = "privacy.id_card", "privacy.mobile"
RN, RT = "roster.name", "roster.title"
TYPO, EXPR, TABOO, FUN = "wording.typo", "wording.expression", "wording.taboo", "entertainment"

# -- what must be found ---------------------------------------------------------------------
TYPOS = [
    "全县上下要认真贯切落实会议精神，确保各项任务落地见效。",
    "截止目前，全县已累计发放耕地地力保护补贴1.2亿元。",
    "截止今年10月底，城区新增停车位3200个。",
    "既使困难再多，也要确保群众温暖过冬。",
    "县城老旧小区改造工程已全面峻工，惠及居民1800户。",
    "新建成的体育公园每到周末穿流不息。",
    "项目现场，工人们正在按装太阳能路灯。",
    "他几十年如一日沤心沥血，培养了一批又一批乡村教师。",
    "面对汛情，全县干部群众一股作气完成了堤坝加固。",
    "这次演出令人震憾，观众纷纷起立鼓掌。",
    "会议对冬季安全生产工作作出具体布署。",
    "县委书记坐阵指挥，救援工作有序推进。",
    "要坚决防止出现一愁莫展、推诿扯皮的现象。",
    "公园夜景美仑美奂，吸引众多市民前来打卡。",
    "本次招聘启示发布后，共收到简历300余份。",
    "县图书馆推出名信片设计大赛，欢迎市民参与。",
    "他始终坚守岗位，不能让群众的小事变成迫在眉捷的大事。",
    "村里的水笼头修好了，村民们用上了放心水。",
    "青年志愿者们兴高彩烈地走上街头开展宣传。",
    "各单位要励行节约，严禁公款吃喝。",
    "新春佳节，社区张灯接彩，年味渐浓。",
    "农村人才倍出，一批新型职业农民脱颖而出。",
    "要对群众反映的问题追朔源头、举一反三。",
    "面对困难，全镇干部再接再励，确保完成全年目标。",
    "非法集资受害群众一诺千斤，政府部门依法追赃挽损。",
    "关于做好中华人民共合国成立77周年庆祝活动的通知。",
    "市攻府召开第十二次常务会议，研究部署冬季供暖工作。",
    "县检查院开展“检察开放日”活动，邀请人大代表走进检察机关。",
    "秸杆综合利用率达到92%，焚烧火点同比下降八成。",
    "他默守成规，不思进取，受到通报批评。",
]
EXPRESSIONS = [
    "积极融入一路一带建设，扩大对外开放。",
    "南明区区委书记带队调研重点项目建设。",
    "某市市委常委会召开会议，传达学习全会精神。",
    "县县委理论学习中心组举行专题学习。",
    "贵州省省委巡视组进驻我县开展常规巡视。",
    "城关镇镇党委召开党建工作推进会。",
    "市市政府办公室印发《关于做好冬季供暖工作的通知》。",
    "青山乡乡政府组织干部职工开展消防演练。",
    "各省、直辖市、自治区要把防灾减灾工作摆在突出位置。",
    "全国各省、市、自治区代表齐聚一堂。",
    "省市自治区的代表参加了会议。",
    "牢固树立政治意识、大局意识、看齐意识、核心意识，坚决做到两个维护。",
    "坚定道路自信、理论自信、文化自信、制度自信。",
    "积极培育和践行富强、民主、和谐、文明的价值目标。",
    "统筹推进经济建设、政治建设、社会建设、文化建设、生态文明建设。",
    "全面推进党的政治建设、思想建设、作风建设、组织建设、纪律建设。",
    "我县认真开展“两学一作”学习教育常态化制度化工作。",
    "全面落实“十四·五”规划确定的目标任务。",
    "据报道，台湾总统选举结果引发岛内各界议论。",
    "共建一带一路战略为沿线国家带来发展机遇。",
]
TABOOS = [
    "县残联为残废人免费发放轮椅20台。",
    "北朝鲜代表团一行到我市参观考察。",
    "我市与多个穆斯林国家开展经贸合作。",
    "该队员被网友称为“乒坛男神”，现场粉丝众多。",
    "活动现场请来了多位影帝级别的演员。",
    "两岸三地青少年交流营在我市开营。",
    "践行八荣八耻，弘扬文明新风。",
    "县特殊教育学校为弱智儿童开设康复课程。",
    "世界贸易组织成员国代表出席了论坛。",
    "中港澳三地企业家齐聚我市洽谈合作。",
]
FUNS = [
    "家人们谁懂啊，县城新开的图书馆太好看了！",
    "这波操作yyds，县政务大厅一次办好。",
    "破防了！老兵回到阔别50年的家乡。",
    "退退退！雨雪天气请远离危险路段。",
    "听我说谢谢你，致敬冬夜里的环卫工人。",
]
PRIVACY = [
    # a table of names and mobiles under one header: every row is a person's
    (
        "mobile_table",
        [MOB],
        "2026年公益性岗位拟聘用人员名单\n序号 姓名 性别 联系电话\n"
        + "\n".join(f"{k} 张某{k} 男 139{k:04d}{k:04d}" for k in range(1, 9)),
    ),
    (
        "id_late",
        [ID],
        "经个人申请、入户调查、民主评议、乡镇审核、县民政局审批，现将2026年第四季度"
        "城乡低保新增对象公示如下。" * 6 + "户主：李某某，身份证号：{id}，保障人数2人。",
    ),
]
ROSTER = [
    ("县长李明远主持召开县政府常务会议，副县长陈晓每出席。", [RN]),
    ("县委副书记刘志强带队检查冬季安全生产工作。", [RT]),
]

# -- what must stay clean --------------------------------------------------------------------
CORRECTED = [  # a form in quotes in a sentence that says it is wrong: corrected, not used
    "“一路一带”“台湾总统”的说法是错误的，应写作“一带一路”“台湾地区领导人”。",
    "提醒：“截止目前”是常见误用，应写作“截至目前”。",
    "“贯切”应为“贯彻”，“既使”应为“即使”，请各单位在发稿前认真校对。",
    "公文中不宜写“××市市委”“××区区委书记”，规范写法是“××市委”“××区委书记”。",
    "“省、市、自治区”的顺序不准确，应为“省、自治区、直辖市”。",
    "校对小课堂：“再接再励”是错别字，正确写法是“再接再厉”。",
    "“yyds”“绝绝子”等网络用语不宜出现在政务新媒体上。",
    "“两学一作”是错误写法，应为“两学一做”。",
    "新闻报道中不使用“北朝鲜”，应称“朝鲜”。",
    "“十四·五”不规范，应写作“十四五”。",
]
BOUNDARY = [  # a longer right word holds a listed form
    "请按装修合同约定的时间完成施工，并按装配式建筑标准验收。",
    "面对严峻工作形势，全县干部坚守岗位。",
    "凭添加的好友验证码即可完成实名认证。",
    "晋城市城区区委召开常委会会议。",
    "阳泉市郊区区委书记到乡镇调研。",
    "市市场监管局开展冬季食品安全专项检查。",
    "县县长热线办理群众诉求1200余件。",
    "纽约自由女神像前，游客排起长队。",
    "检查院内消防设施是否完好，是群众安全的保障。",
    "受了区区委屈，他从不计较。",
    "两个确定性之间，市场更需要稳定预期。",
    "台湾政府间组织的说法并不存在。",
]
DEBATED = [  # usage the lists leave alone on purpose
    "截止11月20日，全县已完成秋播面积12万亩。",
    "报名截止到12月31日，逾期不再受理。",
    "既使群众满意，又使企业放心，是我们的工作目标。",
    "即使天气寒冷，志愿者们依然坚守岗位。",
    "各省、自治区、直辖市和新疆生产建设兵团要抓好落实。",
    "各省（自治区、直辖市）要加强统筹。",
    "倡导富强、民主、文明、和谐，倡导自由、平等、公正、法治，倡导爱国、敬业、诚信、友善。",
    "增强政治意识、大局意识、核心意识、看齐意识。",
    "省、市、县三级联动，形成工作合力。",
    "扎实推进“一带一路”倡议重点项目建设。",
    "深入开展“两学一做”学习教育。",
    "坚定“四个自信”，做到“两个维护”。",
    "看完电影后，孩子们写下了观后感。",
    "地方政府与台湾当局不存在任何官方往来。",
    "县人民检察院开展法治宣传进校园活动。",
]
SUBJECTS = [
    "县人社局", "县卫健局", "县教育局", "县市场监管局", "县住建局", "县农业农村局", "县交通运输局",
    "县文旅局", "县生态环境局", "县应急管理局", "县民政局", "县医保局", "县税务局", "县公安局",
    "城关镇", "青山乡", "河西街道", "县融媒体中心", "县总工会", "团县委",
]  # fmt: skip
ACTIONS = [
    "召开冬季安全生产工作会议，部署下一阶段重点任务。",
    "开展“我为群众办实事”实践活动，解决群众急难愁盼问题{n}件。",
    "组织干部职工开展消防应急疏散演练，参演人员{n}人。",
    "深入企业走访调研，帮助解决用工、融资等困难{n}个。",
    "举办业务知识培训班，参训人员{n}人次。",
    "开展冬季供暖专项检查，发现并督促整改隐患{n}处。",
    "召开党风廉政建设工作推进会，传达学习上级有关文件精神。",
    "开展法治宣传进社区活动，发放宣传资料{n}份。",
    "到结对帮扶村开展走访慰问，为困难群众送去棉被、大米等物资。",
    "组织开展无偿献血活动，{n}名干部职工参与献血。",
    "召开专题会议研究城区停车难问题，提出解决措施{n}条。",
    "开展食品安全“你点我检”活动，抽检样品{n}批次，均合格。",
]
NOTICES = [
    "【通知】12月{d}日8:00至18:00，城区部分区域计划停电检修，请提前做好准备。",
    "【提醒】近期气温骤降，请广大群众做好防寒保暖，注意用火用电安全。",
    "【公告】2027年度城乡居民医疗保险集中缴费期为即日起至12月31日。",
    "【服务】县政务服务中心周六上午照常办理不动产登记业务。",
    "【招聘】县融媒体中心公开招聘编辑记者{n}名，报名时间为12月{d}日至20日。",
    "【通告】因道路施工，人民路部分路段12月{d}日起实行交通管制，请绕行。",
    "【提示】冬季是一氧化碳中毒高发期，使用燃煤取暖请保持通风。",
    "【便民】县人民医院开通夜间门诊，就诊时间为每日18:00至22:00。",
    "【通知】关于做好2026年度冬春救助工作的通知已印发，请各乡镇认真抓好落实。",
    "【公示】县第一中学2026年秋季学期助学金评审结果已在校内公示。",
]


def add(case: Callable[..., Any], rid: Callable[..., str]) -> None:
    for k, text in enumerate(TYPOS):
        case("typo_cited", [TYPO], "typo", text, days=k % 7)
    for k, text in enumerate(EXPRESSIONS):
        case("expression_cited", [EXPR], "expression", text, days=k % 7)
    for k, text in enumerate(TABOOS):
        case("taboo", [TABOO], "taboo", text, days=k % 7)
    for k, text in enumerate(FUNS):
        case("entertainment_more", [FUN], "entertainment", text, days=k % 7)
    for cid, expect, text in PRIVACY:
        wx = cid == "id_late"
        case(cid, expect, cid.split("_")[0] if cid != "id_late" else "id_card",
             text.replace("{id}", rid("520103", "19580214")), platform="wechat" if wx else "weibo",
             title="2026年第四季度城乡低保新增对象公示" if wx else "")  # fmt: skip
    for text, expect in ROSTER:
        case("roster_more", expect, expect[0].replace(".", "_"), text)
    for cat, texts in (("corrected", CORRECTED), ("boundary", BOUNDARY), ("debated", DEBATED)):
        for k, text in enumerate(texts):
            case(cat, [], "trap", text, days=k % 5, note=cat)
    n = 0
    for i, subject in enumerate(SUBJECTS):
        for j in range(len(ACTIONS) // 2):
            action = ACTIONS[(i + j * 5) % len(ACTIONS)].format(n=12 + (i * 7 + j * 13) % 380)
            wx = (i + j) % 3 == 0
            case("plain_news", [], "plain", f"{subject}{action}", days=(i + j) % 10,
                 platform="wechat" if wx else "weibo",
                 title=f"{subject}工作动态" if wx else "")  # fmt: skip
            n += 1
    for k, text in enumerate(NOTICES):
        case("plain_notice", [], "plain", text.format(d=8 + k % 9, n=3 + k), days=k % 6)
