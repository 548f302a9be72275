"""The hand-over summary for the municipality's social services, in Italian: pure, from what
monitoring knows of the case (the person as the hospital announced them, the services running
and their providers, the team's hand-over). Before the hand-over it is a draft the team reads
before doing the step; the machine codes (service types, ISTAT code) stay as they are."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cerniera.monitoring.domain import Activation, FollowUp, HandOver, running
from cerniera.shared.clock import italian_date
from cerniera.shared.contract import ServiceType

SERVICE_LABELS = {
    ServiceType.SAD: "Assistenza domiciliare (SAD)",
    ServiceType.MEALS: "Pasti a domicilio",
    ServiceType.TELEASSISTANCE: "Teleassistenza",
    ServiceType.EMERGENCY_ALARM: "Telesoccorso",
}
UNITS = {
    ServiceType.SAD: "ore",
    ServiceType.MEALS: "pasti",
    ServiceType.TELEASSISTANCE: "giorni",
    ServiceType.EMERGENCY_ALARM: "giorni",
}
NOT_KNOWN = "non noto"


@dataclass(frozen=True)
class Person:
    """The person as the hospital announced them (updated by its corrections)."""

    given_name: str
    family_name: str
    birth_date: date
    fiscal_code: str
    municipality_code: str
    address: str
    phone: str | None = None
    caregiver_name: str | None = None
    caregiver_phone: str | None = None
    caregiver_present: bool | None = None


@dataclass(frozen=True)
class Item:
    label: str
    value: str


@dataclass(frozen=True)
class Section:
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Summary:
    case_id: str
    ambito_id: str
    handed_over: bool
    municipality_code: str | None
    continuing: tuple[ServiceType, ...]
    title: str
    sections: tuple[Section, ...]

    @property
    def text(self) -> str:
        """The same, as Markdown (plain text that reads as is)."""
        lines = [f"# {self.title}", ""]
        for section in self.sections:
            lines += [f"## {section.title}", ""]
            lines += [f"- **{i.label}**: {i.value}" for i in section.items] or ["- Nessuno"]
            lines.append("")
        return "\n".join(lines)


def italian_day(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def quantity(service: ServiceType, amount: Decimal) -> str:
    number = f"{amount.normalize():f}".replace(".", ",")
    return f"{number} {UNITS[service]} a settimana"


def summary(
    followup: FollowUp,
    handover: HandOver | None,
    person: Person | None,
    activations: Sequence[Activation],
    provider_name: Callable[[str], str],
    district: str | None,
    today: date,
) -> Summary:
    """The summary as of the hand-over, or ``today`` while it is a draft."""
    on = italian_date(handover.handed_over_at) if handover else today
    running_now = running(activations, on)
    continuing = (
        handover.continuing if handover else tuple(sorted({a.service_type for a in running_now}))
    )
    municipality = handover.municipality_code if handover else None
    if municipality is None and person is not None:
        municipality = person.municipality_code  # a draft: the municipality of residence
    sections = (
        _person(person, municipality),
        _services(followup, running_now, continuing, provider_name, handover is not None),
        Section("Bisogni", (Item("Bisogni rilevati dall'équipe", _needs(handover)),)),
        Section("Contatti", _contacts(person, handover)),
        _dates(followup, handover, district, today),
    )
    title = "Passaggio in carico ai servizi sociali del Comune"
    return Summary(
        case_id=followup.case_id,
        ambito_id=followup.ambito_id,
        handed_over=handover is not None,
        municipality_code=municipality,
        continuing=continuing,
        title=title if handover else f"{title} (bozza)",
        sections=sections,
    )


def _person(person: Person | None, municipality: str | None) -> Section:
    if person is None:
        items = [Item("Dati anagrafici", "non ricevuti dall'ospedale")]
    else:
        items = [
            Item("Nome e cognome", f"{person.given_name} {person.family_name}"),
            Item("Data di nascita", italian_day(person.birth_date)),
            Item("Codice fiscale", person.fiscal_code),
            Item("Indirizzo", person.address),
            Item("Telefono", person.phone or NOT_KNOWN),
            Item("Comune di residenza (codice ISTAT)", person.municipality_code),
        ]
    items.append(Item("Comune che prende in carico (codice ISTAT)", municipality or NOT_KNOWN))
    return Section("Persona", tuple(items))


def _services(
    followup: FollowUp,
    running_now: Sequence[Activation],
    continuing: Sequence[ServiceType],
    provider_name: Callable[[str], str],
    handed_over: bool,
) -> Section:
    planned = {line.service_type: line.weekly_quantity for line in followup.plan}
    items = []
    for service in sorted(set(planned) | {a.service_type for a in running_now}):
        parts = [quantity(service, planned[service])] if service in planned else []
        providers = [a for a in running_now if a.service_type == service]
        if providers:
            parts += [
                f"{provider_name(a.provider_id)}, attivo dal {italian_day(a.active_from)}"
                for a in providers
            ]
        else:
            parts.append("nessun ente attivo")
        if service in continuing:
            parts.append("prosegue con il Comune" if handed_over else "proposto: prosegue")
        elif handed_over:
            parts.append("termina con la chiusura del caso")
        items.append(Item(SERVICE_LABELS[service], "; ".join(parts)))
    return Section("Servizi in corso", tuple(items))


def _needs(handover: HandOver | None) -> str:
    if handover is None:
        return "da indicare al passaggio"
    return handover.needs or "nessuno indicato"


def _contacts(person: Person | None, handover: HandOver | None) -> tuple[Item, ...]:
    items = []
    if person is not None and person.caregiver_present is False:
        items.append(Item("Caregiver", "assente"))
    elif person is not None and person.caregiver_name:
        items.append(
            Item("Caregiver", _name_and_phone(person.caregiver_name, person.caregiver_phone))
        )
    for contact in handover.contacts if handover else ():
        label = f"{contact.name} ({contact.role})" if contact.role else contact.name
        items.append(Item(label, contact.phone or "telefono non indicato"))
    return tuple(items)


def _name_and_phone(name: str, phone: str | None) -> str:
    return f"{name}, tel. {phone}" if phone else name


def _dates(
    followup: FollowUp, handover: HandOver | None, district: str | None, today: date
) -> Section:
    items = [
        Item("Ambito", district or followup.ambito_id),
        Item("Dimissione", italian_day(followup.schedule.discharge_on)),
        Item("Fine del monitoraggio prevista", italian_day(followup.schedule.closes_on)),
    ]
    if handover is not None:
        items.append(
            Item("Passaggio al Comune", italian_day(italian_date(handover.handed_over_at)))
        )
        items.append(
            Item("A cura di", handover.handed_over_by or "équipe (alla chiusura del monitoraggio)")
        )
    else:
        items.append(Item("Bozza del", italian_day(today)))
    return Section("Date", tuple(items))
