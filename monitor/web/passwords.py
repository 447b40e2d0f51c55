"""The password policy (等保 2.0 身份鉴别: 口令复杂度), from ``[web]``.

A password has at least ``password_min_length`` characters, of at least
``password_classes`` of four classes (lower-case letters, upper-case letters, digits,
anything else: punctuation, spaces, Chinese characters), does not contain the user name (of
three characters or more; a shorter name may not be the whole password), forwards or
backwards, whatever the case, and is none of the user's last ``password_history`` passwords
(checked by ``monitor.web.auth``, which holds the hashes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.config import WebConfig

CLASSES = ("小写字母", "大写字母", "数字", "其他符号")


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    classes: int = 3  # of the four in CLASSES
    history: int = 5  # the current password and the ones before it, this many in all

    @classmethod
    def of(cls, web: WebConfig) -> PasswordPolicy:
        return cls(web.password_min_length, web.password_classes, web.password_history)

    def describe(self) -> str:
        """The policy in one sentence, for help pages and refusals."""
        reuse = f"，不能与最近 {self.history} 次的密码相同" if self.history else ""
        return (
            f"至少 {self.min_length} 个字符，含{'、'.join(CLASSES)}中的至少 {self.classes} 类，"
            f"不能包含用户名{reuse}"
        )


def classes_in(password: str) -> int:
    """How many of the four classes the password uses."""
    kinds = set()
    for c in password:
        if c.isascii() and c.islower():
            kinds.add(0)
        elif c.isascii() and c.isupper():
            kinds.add(1)
        elif c.isascii() and c.isdigit():
            kinds.add(2)
        else:
            kinds.add(3)
    return len(kinds)


def problems(policy: PasswordPolicy, name: str, password: str) -> list[str]:
    """What is wrong with ``password`` for user ``name`` (empty: nothing), in Chinese; the
    reuse rule is checked apart, against the stored hashes."""
    found = []
    if len(password) < policy.min_length:
        found.append(f"密码至少 {policy.min_length} 个字符")
    have = classes_in(password)
    if have < policy.classes:
        found.append(
            f"密码须含{'、'.join(CLASSES)}中的至少 {policy.classes} 类（现在只有 {have} 类）"
        )
    lowered, who = password.casefold(), name.strip().casefold()
    if who and (lowered == who or (len(who) >= 3 and (who in lowered or who[::-1] in lowered))):
        found.append("密码不能包含用户名")
    return found
