"""The districts' document shipped with the platform (Desio and Magentino), which the tests
use whatever CERNIERA_AMBITI says on the machine running them."""

from __future__ import annotations

from pathlib import Path

import cerniera.shared.ambiti

EXAMPLE = Path(cerniera.shared.ambiti.__file__).parent / "example.toml"

# The default BRASS bands (0–10 low, 11–19 medium, 20–40 high) at their edges: (score, band).
DEFAULT_BRASS_BANDS = (
    (0, "low"),
    (10, "low"),
    (11, "medium"),
    (19, "medium"),
    (20, "high"),
    (40, "high"),
)

# The Desio district's provider registry in the example, in its order.
DESIO_PROVIDERS = (
    "coop-il-melograno",
    "coop-solidarieta-brianza",
    "brianza-ristorazione-sociale",
    "pasti-a-casa-desio",
    "telesoccorso-lombardia",
    "croce-azzurra-teleassistenza",
)
