"""Everything that looks at the outside world and judges what it saw.

Knows nothing of the database or of alerts: readers turn a :class:`~probes.model.Target`
into an :class:`~probes.model.Observation`, detectors turn observations into
:class:`~probes.model.Signal` s. ``monitor`` wires them to storage and alerting.
"""
