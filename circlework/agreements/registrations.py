"""What agreements registers with the floors below it. `AgreementsConfig.ready` calls
`register`.

- Tabs (circles.tabs): a circle's agreements; a federation's lineage of agreements, covenant
  and ethical statements.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from circlework.circles.tabs import Tab, register_circle_tab, register_federation_tab


def register() -> None:
    register_circle_tab(Tab("agreements", 20, _("Agreements"), "agreements:agreement_list"))
    register_federation_tab(Tab("lineage", 60, _("Lineage of agreements"), "agreements:lineage"))
    register_federation_tab(Tab("covenant", 70, _("Covenant"), "agreements:covenant"))
    register_federation_tab(
        Tab("ethics", 80, _("Ethical statements"), "agreements:ethics_register")
    )
