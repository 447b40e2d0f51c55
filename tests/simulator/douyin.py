"""Douyin as an anonymous visitor meets it today (fixtures: ``fixtures/platforms/douyin``).

The user page ``/user/<sec_uid>`` is a script that fetches the profile and the post list, as
douyin.com's does, through the site's signer (:data:`SIGNER`), which signs any call the page
makes to the APIs — its own, or one a reader asks from a page already open. An unsigned call
gets an empty ``200``. What a sec_uid is decides the answers:

- ``…ok``: a government account, 321 works, an old pin and a post two hours old;
- ``…gone``: cancelled (``status_code 2096`` "该账号已注销");
- ``…captcha``: the page itself is the verification page ("验证码中间页");
- ``…withheld`` / ``…null``: the profile counts 1,288 works, the list comes back ``[]`` /
  ``null`` with ``has_more 0`` — what anonymous visitors get;
- ``…empty`` / ``…emptynull``: a real empty account — 0 works, and the same empty list;
- ``…stalepin``: a pin made yesterday over posts 40 and 60 days old;
- ``…verify`` / ``…verifycheck``: the post API answers with a verification object;
- ``…emptybody``: the post API answers ``200`` with no body at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from localserver import Reply, Request

from .captured import JSON, answer, html_reply, json_reply, page

if TYPE_CHECKING:
    from . import Simulator

P = "MS4wLjABAAAA"
#: sec_uid -> (profile answer, post-list answer); None: an empty 200 body
ACCOUNTS: dict[str, tuple[str, str | None]] = {
    f"{P}ok": ("profile_ok", "posts_ok"),
    f"{P}gone": ("profile_gone", "posts_withheld"),
    f"{P}captcha": ("profile_ok", "posts_ok"),
    f"{P}withheld": ("profile_withheld", "posts_withheld"),
    f"{P}null": ("profile_withheld", "posts_null"),
    f"{P}empty": ("profile_empty", "posts_withheld"),
    f"{P}emptynull": ("profile_empty", "posts_null"),
    f"{P}stalepin": ("profile_ok", "posts_stale_pin"),
    f"{P}verify": ("profile_ok", "posts_verify"),
    f"{P}verifycheck": ("profile_ok", "posts_verify_check"),
    f"{P}emptybody": ("profile_ok", None),
}

#: the site's request signer as the page loads it first: it wraps ``XMLHttpRequest`` and
#: ``fetch`` and signs every call to ``/aweme/v1/web/`` — the page's own and any other call
#: made from the page (lixi5338619/magical_spider: in-page XHR gets ByteDance's signature)
SIGNER = """(() => {
const sign = (u) => (String(u).includes('/aweme/v1/web/')
  ? u + (String(u).includes('?') ? '&' : '?') + 'a_bogus=sim' : u);
const open = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (m, u, ...rest) {
  return open.call(this, m, sign(u), ...rest); };
const f = window.fetch; window.fetch = (u, o) => f(sign(u), o);
})();"""

USER_PAGE = (
    """<!DOCTYPE html><html><head><meta charset="utf-8"><title>抖音</title><script>"""
    + SIGNER
    + """</script></head>
<body><div id="root"><h1 id="nick">加载中</h1><ul id="list"></ul></div><script>
const sec = location.pathname.split('/').pop();
const q = 'device_platform=webapp&aid=6383&channel=channel_pc_web&sec_user_id=' + sec;
fetch('/aweme/v1/web/user/profile/other/?' + q).then(r => r.json())
  .then(d => { const n = document.getElementById('nick');
    n.textContent = d.user ? d.user.nickname : d.status_msg; }).catch(() => {});
fetch('/aweme/v1/web/aweme/post/?' + q + '&max_cursor=0&count=18')
  .then(r => r.json()).then(d => { for (const a of d.aweme_list || []) {
    const li = document.createElement('li'); li.textContent = a.desc;
    document.getElementById('list').appendChild(li); } }).catch(() => {});
</script></body></html>"""
)


def routes(sim: Simulator) -> dict[str, Any]:
    return {
        **{f"/user/{sec}": _user_page for sec in ACCOUNTS},
        "/aweme/v1/web/user/profile/other/": lambda r: _profile(sim, r),
        "/aweme/v1/web/aweme/post/": lambda r: _posts(sim, r),
    }


def _user_page(req: Request) -> Reply:
    if req.path.endswith("captcha"):
        return html_reply(page("douyin", "captcha_page"))
    return html_reply(USER_PAGE)


def _account(req: Request) -> tuple[str, tuple[str, str | None]]:
    sec = parse_qs(req.query).get("sec_user_id", [""])[0]
    return sec, ACCOUNTS.get(sec, ACCOUNTS[f"{P}ok"])


def _refused(req: Request) -> bool:
    """An unsigned call (no ``a_bogus``: not from a page of the site), or one for the account
    whose visitors meet the verification page: the empty ``200`` ByteDance's web APIs give
    (Evil0ctal/Douyin_TikTok_Download_API issues #435, #563)."""
    q = parse_qs(req.query)
    return "a_bogus" not in q or q.get("sec_user_id", [""])[0] == f"{P}captcha"


def _empty() -> Reply:
    return Reply(200, b"", {"Content-Type": JSON})


def _profile(sim: Simulator, req: Request) -> Reply:
    if _refused(req):
        return _empty()
    sec, (profile, _) = _account(req)
    data = answer("douyin", profile, sim.now)
    if isinstance(data.get("user"), dict):
        data["user"]["sec_uid"] = sec
    return json_reply(data)


def _posts(sim: Simulator, req: Request) -> Reply:
    _, (_, posts) = _account(req)
    if posts is None or _refused(req):
        return _empty()
    return json_reply(answer("douyin", posts, sim.now))
