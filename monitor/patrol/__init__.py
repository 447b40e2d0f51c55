"""The patrol engine: schedules, one check end to end, the records' writer, cluster locks.

``daemon`` runs ``xuncha run``; ``pipeline`` is one check (observe → record); ``record`` is
what a check writes; ``recorder`` batches records and ``writer`` writes them in a process
of its own; ``cluster`` holds the locks that keep several nodes from probing one account.
"""
