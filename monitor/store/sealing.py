"""Sealing secrets at rest: AES-256-GCM with a key kept outside the database.

Platform sessions are logins: a database copied to a laptop or a backup must not hand them
out. So their cookies are sealed with a key that never enters the database — from the
environment (``XUNCHA_SESSION_KEY``, base64 of 32 bytes: a service manager's secret) or a key
file (``[sessions] key_file``, default ``<data_dir>/session.key``), created with mode 0600 the
first time something is sealed. A sealed value is ``v1`` + a 12-byte nonce + the ciphertext;
the associated data binds it to what it is (a session of one platform), so a value moved to
another row does not open. The key's id (a keyed hash, revealing nothing of it) is stored
beside each value: a wrong key is then a plain Chinese message, never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_ENV = "XUNCHA_SESSION_KEY"
KEY_BYTES = 32
_VERSION = b"v1"
_NONCE = 12
MAKE_KEY = "head -c 32 /dev/urandom | base64"


class SealError(Exception):
    """The key is missing, malformed or not the one a value was sealed with (Chinese)."""


@dataclass(frozen=True)
class Sealer:
    key: bytes
    where: str  # where the key came from, for messages ("环境变量 XUNCHA_SESSION_KEY", a path)

    @property
    def key_id(self) -> str:
        """Names the key without revealing it (stored beside each sealed value)."""
        return hashlib.sha256(b"xuncha-session-key\0" + self.key).hexdigest()[:16]

    def seal(self, plain: bytes, purpose: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + AESGCM(self.key).encrypt(nonce, plain, purpose.encode())

    def open(self, sealed: bytes, purpose: str, key_id: str, what: str) -> bytes:
        """The plain bytes of ``sealed``; :class:`SealError` naming ``what`` if this key is not
        the one it was sealed with, or the value was altered."""
        if key_id and key_id != self.key_id:
            raise SealError(
                f"{what}是用另一把密钥加密的（密钥编号 {key_id}，当前密钥 {self.key_id} 来自"
                f"{self.where}）：请恢复原来的密钥，或删除该会话后重新导入"
            )
        if not sealed.startswith(_VERSION) or len(sealed) < len(_VERSION) + _NONCE + 16:
            raise SealError(f"{what}的加密数据已损坏，请删除该会话后重新导入")
        nonce = sealed[len(_VERSION) : len(_VERSION) + _NONCE]
        try:
            return AESGCM(self.key).decrypt(
                nonce, sealed[len(_VERSION) + _NONCE :], purpose.encode()
            )
        except InvalidTag:
            raise SealError(
                f"{what}无法用{self.where}的密钥解密（密钥不对或数据被改动），"
                "请恢复原来的密钥，或删除该会话后重新导入"
            ) from None


def load_sealer(key_file: Path, *, create: bool) -> Sealer:
    """The sealer of ``XUNCHA_SESSION_KEY``, else of ``key_file`` (made, mode 0600, when
    ``create`` and it does not exist). :class:`SealError` in Chinese for anything wrong."""
    env = os.environ.get(KEY_ENV, "").strip()
    if env:
        return Sealer(_decode(env, f"环境变量 {KEY_ENV}"), f"环境变量 {KEY_ENV}")
    where = f"密钥文件 {key_file}"
    try:
        text = key_file.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if not create:
            raise SealError(
                f"找不到会话密钥：未设置环境变量 {KEY_ENV}，{where} 也不存在。"
                "已保存的会话无法解密：请恢复原来的密钥文件（或设置该环境变量），"
                "或删除这些会话后重新导入"
            ) from None
        return Sealer(_create(key_file), where)
    except PermissionError:
        raise SealError(f"无法读取{where}：权限不足（应只允许运行 xuncha 的用户读取）") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SealError(f"无法读取{where}：{e}") from None
    return Sealer(_decode(text, where), where)


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise SealError(
            f"{where}不是有效的会话密钥：须为 {KEY_BYTES} 字节的 base64 编码"
            f"（可用 `{MAKE_KEY}` 生成）"
        )
    return key


def _create(path: Path) -> bytes:
    key = os.urandom(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile: use theirs
        return load_sealer(path, create=False).key
    except OSError as e:
        raise SealError(f"无法创建会话密钥文件 {path}：{e}") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(base64.b64encode(key).decode() + "\n")
    return key
