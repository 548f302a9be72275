"""``cerniera chaos``: the whole lifecycle of many cases while services and the database fail.

``scenario`` writes what the hospitals send (with duplicates) and the districts' document the
run uses; ``postgres`` is a PostgreSQL the run can kill; ``fleet`` the service processes it
kills and restarts; ``actors`` the hospital, the équipe and the report duplicator;
``observe`` what the topics show; ``verify`` the four figures; ``run`` puts them together.
"""
