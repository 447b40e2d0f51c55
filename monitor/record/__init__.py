"""The write side of a check: its record, judged and written, in batches, off the event loop.

``batch`` is what a check writes (read → judge → write, one transaction for many checks);
``judge`` is the pure judgement; ``recorder`` gathers records into batches; ``writer``
writes them in a process of its own under ``xuncha run``. The patrol hands records in
through ``App.recorder`` and awaits each one's result.
"""
