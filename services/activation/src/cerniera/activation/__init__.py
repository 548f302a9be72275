"""Cerniera activation service: every service of a case's package running by the discharge day,
across several providers (enti gestori), each with its own lead time and answers.

Pure: ``domain`` (the case and its lifecycle), ``planning`` (working days, candidates, whom to
ask and by when), ``readiness`` (is the case ready, and if not why), ``notices`` (what providers
see on their own topics, including that a repeated ``request_id`` is an update).
``store`` loads and saves rows; ``cases`` is the service layer the ``handlers`` (Kafka), the
deadline check and the ``api`` (the readiness view) call.
"""
