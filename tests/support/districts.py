"""The districts' document shipped with the platform (Desio and Magentino), which the tests
use whatever CERNIERA_AMBITI says on the machine running them."""

from __future__ import annotations

from pathlib import Path

import cerniera.shared.ambiti

EXAMPLE = Path(cerniera.shared.ambiti.__file__).parent / "example.toml"

# The Desio district's provider registry in the example, in its order.
DESIO_PROVIDERS = (
    "coop-il-melograno",
    "coop-solidarieta-brianza",
    "brianza-ristorazione-sociale",
    "pasti-a-casa-desio",
    "telesoccorso-lombardia",
    "croce-azzurra-teleassistenza",
)
