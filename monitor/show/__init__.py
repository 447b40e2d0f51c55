"""How stored things are shown to people: times, labels, and the dicts of --json and the API.

The CLI, the console, reports and the demo import this package, so a duty officer reads
the same words and the same times everywhere.
"""
