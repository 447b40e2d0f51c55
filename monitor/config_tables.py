"""The configuration's tables that the console and the reports read ([web], [report],
[activity]), and the base every table shares: kept apart from ``monitor/config.py`` so each
stays small; ``Settings`` there holds them, and ``monitor.config`` still names them.
Every key is documented in ``docs/config.md``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Section(BaseModel):
    """A config table: unknown keys are errors, so a typo is never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class WebConfig(Section):
    """The web console and JSON API (``xuncha web``; also inside ``xuncha run`` if enabled)."""

    enabled: bool = False  # serve it from ``xuncha run`` too
    address: str = "127.0.0.1"  # listen address; put a TLS proxy in front for other hosts
    port: int = Field(8080, ge=0, le=65535)  # 0 = any free port (tests)
    session_hours: float = Field(12.0, gt=0)  # a login lasts this long
    # password guessing: this many wrong passwords for one user name within
    # ``login_pause_minutes`` pause logins as that name until the oldest of them is that old
    login_attempts: int = Field(5, ge=1)
    login_pause_minutes: float = Field(15.0, gt=0)
    # token guessing: this many wrong API tokens from one client address within
    # ``token_pause_minutes`` refuse every token from that address (429) until the oldest of
    # them is that old; valid tokens from other addresses are not touched
    token_attempts: int = Field(20, ge=1)
    token_pause_minutes: float = Field(15.0, gt=0)
    secure_cookies: bool = False  # set when served over HTTPS (behind a proxy)
    # wrong passwords from one client address, for any names, within ``login_pause_minutes``
    # pause every login from it; a name's pause does not apply to an address its user
    # logged in from within ``known_address_days`` (0: none is known)
    login_address_attempts: int = Field(10, ge=1)
    known_address_days: float = Field(30.0, ge=0)
    idle_minutes: float = Field(30.0, gt=0)  # a login unused this long ends
    # the password policy (monitor/web/passwords.py)
    password_min_length: int = Field(8, ge=6, le=128)
    password_classes: int = Field(3, ge=1, le=4)  # of lower, upper, digits, other
    password_history: int = Field(5, ge=0, le=24)  # not one of the last N (current included)
    totp_issuer: str = Field("xuncha", min_length=1, max_length=40)  # the name apps show
    # roles whose users may log in to the console only with the TOTP second factor
    totp_required_roles: list[
        Literal["admin", "supervisor", "duty", "system", "security", "audit"]
    ] = Field(default_factory=list)


DEFAULT_REQUIREMENTS = [
    "抓好问题整改。各单位要对照附件所列问题逐项整改：单项否决问题须立即整改，其他问题须在"
    "整改期限内整改到位；对长期不更新、无力维护的账号，按程序予以关停整合。",
    "加强日常管理。各单位要落实“谁开设、谁主办、谁负责”的要求，健全内容发布审核、值班值守"
    "和日常巡查制度，确保政务新媒体更新及时、内容准确、互动有效。",
    "严格落实责任。主管单位将持续开展常态化检查，对整改不力、问题反复出现的单位予以通报，"
    "并纳入年度政务公开工作考核。",
]


class ReportFontsConfig(Section):
    """The 公文 faces (GB/T 9704) the DOCX names; Word uses them where they are installed."""

    body: str = "仿宋_GB2312"  # 正文 and tables
    title: str = "方正小标宋简体"  # 标题 and the issuing office
    heading: str = "黑体"  # 一、二、三、
    subheading: str = "楷体_GB2312"  # （一）（二）


class ReportConfig(Section):
    """What the 通报 says around its figures (docs/report.md): letterhead, 主送, 工作要求."""

    # 发文机关: "" = the chosen unit's name (``--unit``), else no letterhead line
    issuing_office: str = ""
    # 文号: "黔岭府办通〔{year}〕{seq}号" ({year} of the date, {seq} from --seq) or a plain value
    document_number: str = ""
    area: str = "全市"  # the title's scope when no unit is chosen: 关于…全市政务新媒体…的通报
    recipients: str = "各有关单位"  # 主送
    copy_to: str = ""  # 抄送 ("" = no 版记 line)
    signature: str = ""  # 落款: "" = the issuing office
    requirements: list[str] = Field(default_factory=lambda: list(DEFAULT_REQUIREMENTS))
    examples_per_category: int = Field(3, ge=0, le=20)  # named cases per 问题类别 in 二、
    fonts: ReportFontsConfig = Field(default_factory=ReportFontsConfig)

    @field_validator("document_number")
    @classmethod
    def _number(cls, v: str) -> str:
        try:
            v.format(year=2026, seq=1)
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(
                f"文号只能用 {{year}} 和 {{seq}} 两个占位符（{e}），"
                "例如 黔岭府办通〔{year}〕{seq}号"
            ) from None
        return v


class ActivityConfig(Section):
    """清理整合 candidates on the console's /activity page (docs/console.md)."""

    silent_days: int = Field(90, ge=1)  # no post for this many days
    low_posts_per_month: float = Field(2.0, ge=0)  # fewer, on average over the months shown
    months: int = Field(3, ge=1, le=24)  # the months the page shows (the quarter)
    # two names of one unit's accounts on one platform this alike (0..1) read as duplicates
    duplicate_similarity: float = Field(0.8, gt=0, le=1)
