from cerniera.desk.tables import metadata
from cerniera.shared.persistence.migrations import run_env

run_env(metadata)
