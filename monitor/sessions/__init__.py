"""Logged-in platform sessions: an operator gives xuncha a login, the patrol uses it.

Xiaohongshu (since 2025), and more and more Douyin and Weibo, show an anonymous visitor
little or nothing. An operator imports a logged-in browser's cookies (``xuncha sessions add``,
:mod:`~monitor.sessions.cookiefile`) or scans a QR code in the console
(:mod:`~monitor.sessions.qrlogin`); the cookies are stored sealed (``monitor.store.sealing``,
``monitor.store.sessions``). Checks of that platform then take turns with its sessions
(:mod:`~monitor.sessions.rotation`), each at its pace, through the tools handed to the reader
(``probes.fetch.Tools.signed_in``): readers are unchanged. A session that meets login walls
is marked expired and ops are told once. :mod:`~monitor.sessions.platforms` holds what is
known of each platform's login; :mod:`~monitor.sessions.manage` what the CLI and console do.
"""
