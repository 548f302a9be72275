"""Cerniera activation service: every service of a case's package running by the discharge day,
across several providers (enti gestori), each with its own lead time and answers.

``domain`` holds the rules (working days, candidates, planning, readiness); ``handlers`` applies
them to events and deadlines and documents what providers see on ``activation.services``
(including that a repeated ``request_id`` is an update); ``api`` serves the readiness view.
"""
