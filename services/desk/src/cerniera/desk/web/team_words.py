"""The team's pages' words, Italian and English (``team``'s screens), and the names of the
codes they show. Registered in the shared catalogue when imported."""

from __future__ import annotations

from cerniera.desk.web import i18n


def _both(it: str, en: str) -> dict[str, str]:
    return {"it": it, "en": en}


def _codes(prefix: str, names: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    return {f"{prefix}.{code}": _both(it, en) for code, (it, en) in names.items()}


WORDS: dict[str, dict[str, str]] = {
    # Oggi
    "today.title": _both("Oggi", "Today"),
    "today.lead": _both(
        "Quello che aspetta l'équipe oggi, {day}.", "What awaits the team today, {day}."
    ),
    "today.awaiting_assessment": _both("Nuove dimissioni da valutare", "New discharges to assess"),
    "today.awaiting_confirmation": _both("Proposte da confermare", "Proposals to confirm"),
    "today.awaiting_consent": _both("In attesa del consenso", "Awaiting consent"),
    "today.none": _both("Niente da fare qui.", "Nothing to do here."),
    "today.intake_down": _both(
        "Intake non risponde ora: l'elenco non è disponibile.",
        "Intake is not answering now: the list is not available.",
    ),
    "today.escalations": _both("Segnalazioni aperte", "Open escalations"),
    "today.checks": _both("Verifiche settimanali da fare", "Weekly checks to do"),
    "today.networks": _both("Rete territoriale da attivare", "Territorial network to engage"),
    "today.act.assess": _both("Valuta", "Assess"),
    "today.act.confirm": _both("Conferma il piano", "Confirm the plan"),
    "today.act.consent": _both("Registra il consenso", "Record consent"),
    "today.act.resolve": _both("Decidi", "Decide"),
    "today.act.check": _both("Registra la verifica", "Record the check"),
    "today.act.network": _both("Registra l'esito", "Record the outcome"),
    "col.person": _both("Persona", "Person"),
    "col.case": _both("Caso", "Case"),
    "col.hospital": _both("Ospedale e reparto", "Hospital and ward"),
    "col.discharge": _both("Dimissione prevista", "Expected discharge"),
    "col.waiting": _both("In attesa da", "Waiting for"),
    "col.action": _both("Azione", "Action"),
    "col.service": _both("Servizio", "Service"),
    "col.reason": _both("Motivo", "Reason"),
    "col.days_left": _both("Giorni alla dimissione", "Days to discharge"),
    "col.week": _both("Settimana", "Week"),
    "col.due_on": _both("Scadenza", "Due on"),
    "col.state": _both("Stato", "State"),
    "col.quantity": _both("Quantità settimanale", "Weekly quantity"),
    "col.provider": _both("Ente", "Provider"),
    "col.start": _both("Inizio", "Start"),
    "col.when": _both("Quando", "When"),
    "col.event": _both("Evento", "Event"),
    "col.source": _both("Fonte", "Source"),
    "col.ids": _both("Identificativi", "Identifiers"),
    "col.version": _both("Versione", "Version"),
    "col.by": _both("Da", "By"),
    "col.outcome": _both("Esito", "Outcome"),
    "col.recommendation": _both("Indicazione", "Recommendation"),
    "who.rule": _both("la regola dell'ambito", "the district's rule"),
    "days.today": _both("oggi", "today"),
    "days.tomorrow": _both("domani", "tomorrow"),
    "days.yesterday": _both("ieri", "yesterday"),
    "days.in": _both("tra {n} giorni", "in {n} days"),
    "days.ago": _both("{n} giorni fa", "{n} days ago"),
    "days.waiting": _both("{n} giorni", "{n} days"),
    "check.overdue": _both("in ritardo di {n} giorni", "{n} days overdue"),
    "check.due": _both("da fare", "to do"),
    "check.recorded": _both("fatta", "done"),
    "check.coming": _both("in programma", "scheduled"),
    # the case
    "case.title": _both("Caso di {name}", "Case of {name}"),
    "case.id": _both("Identificativo del caso", "Case id"),
    "case.district": _both("Ambito", "District"),
    "case.stage": _both("Stato del caso", "Case state"),
    "case.person": _both("Persona e caregiver", "Person and caregiver"),
    "case.fiscal_code": _both("Codice fiscale", "Fiscal code"),
    "case.birth_date": _both("Data di nascita", "Date of birth"),
    "case.address": _both("Indirizzo", "Address"),
    "case.phone": _both("Telefono", "Phone"),
    "case.caregiver": _both("Caregiver", "Caregiver"),
    "case.caregiver_none": _both("Nessun caregiver", "No caregiver"),
    "case.unknown": _both("Non indicato", "Not given"),
    "case.discharge": _both("Dimissione", "Discharge"),
    "case.hospital": _both("Ospedale", "Hospital"),
    "case.ward": _both("Reparto", "Ward"),
    "case.ref": _both("Numero di ricovero", "Visit number"),
    "case.announced": _both("Annunciata il", "Announced on"),
    "case.expected": _both("Prevista il", "Expected on"),
    "case.postponed": _both(
        "Chiesto il rinvio al {day}, in attesa di: {services}.",
        "Postponement asked until {day}, waiting for: {services}.",
    ),
    "case.readmitted": _both("Di nuovo ricoverata il {day}.", "Readmitted on {day}."),
    "case.assessment": _both("Valutazione", "Assessment"),
    "case.assessment_none": _both("Nessuna valutazione ancora.", "No assessment yet."),
    "case.answers": _both("Requisiti della Fase 2", "Phase-2 requirements"),
    "case.requirement": _both("Requisito", "Requirement"),
    "case.answer": _both("Risposta", "Answer"),
    "case.brass": _both("Indice di BRASS", "BRASS index"),
    "case.brass_score": _both(
        "Punteggio {score} su 40: rischio {band}", "Score {score} of 40: {band} risk"
    ),
    "case.brass_item": _both("Voce", "Item"),
    "case.brass_points": _both("Punti", "Points"),
    "case.consent": _both("Consenso", "Consent"),
    "case.consent_given": _both("Dato", "Given"),
    "case.consent_refused": _both("Rifiutato", "Refused"),
    "case.consent_none": _both("Non ancora registrato", "Not recorded yet"),
    "case.notes": _both("Note", "Notes"),
    "case.intake_down": _both(
        "Intake non risponde ora: valutazione, proposta e moduli di intake non sono disponibili.",
        "Intake is not answering now: its assessment, proposal and forms are not available.",
    ),
    "case.proposal": _both("Proposta della regola", "The rule's proposal"),
    "case.proposal_lead": _both(
        "La regola dell'ambito propone questo piano: l'équipe lo conferma, anche modificato.",
        "The district's rule proposes this plan: the team confirms it, tailored if needed.",
    ),
    "case.decision": _both("Decisione", "Decision"),
    "case.intensity": _both("Intensità", "Intensity"),
    "case.decided_by": _both("Deciso da", "Decided by"),
    "case.reasons": _both("Motivi", "Reasons"),
    "case.cap": _both(
        "Ore SAD nel periodo: {total} su un massimo di {cap}.",
        "SAD hours over the period: {total} of at most {cap}.",
    ),
    "case.cap_exceeded": _both(
        "Il piano supera il tetto di ore SAD: serve la deroga dell'ufficio di piano.",
        "The plan exceeds the SAD hours cap: the district's exception is needed.",
    ),
    "case.plan": _both("Piano e versioni", "Plan and versions"),
    "case.plan_none": _both("Nessun piano in vigore.", "No plan in force."),
    "case.services": _both("Servizi", "Services"),
    "case.services_none": _both("Nessun servizio ancora.", "No services yet."),
    "case.escalated": _both(
        "Segnalato: {reason}. Dimissione: {days}.",
        "Escalated: {reason}. Discharge: {days}.",
    ),
    "case.network": _both("Rete territoriale", "Territorial network"),
    "case.network_open": _both("Attivazione in corso dal {day}.", "Being engaged since {day}."),
    "case.network_done": _both(
        "Esito: {outcome} ({resources}).", "Outcome: {outcome} ({resources})."
    ),
    "case.checks": _both("Verifiche settimanali", "Weekly checks"),
    "case.checks_none": _both(
        "Le verifiche cominciano dopo la dimissione.", "Checks start after the discharge."
    ),
    "case.closure": _both("Chiusura", "Closure"),
    "case.closed": _both("Chiuso il {day}: {outcome}.", "Closed on {day}: {outcome}."),
    "case.handed_over": _both(
        "Passato al Comune {municipality} il {day}; continuano: {services}.",
        "Handed over to municipality {municipality} on {day}; continuing: {services}.",
    ),
    "case.timeline": _both("Cronologia", "Timeline"),
    "case.timeline_none": _both("Nessun evento ancora.", "No events yet."),
    "case.event_id": _both("evento", "event"),
    "case.correlation": _both("correlazione", "correlation"),
    "case.causation": _both("causa", "causation"),
    "case.actions": _both("Azioni", "Actions"),
    "case.no_actions": _both(
        "Nessuna azione possibile sul caso in questo momento.",
        "No action is possible on the case right now.",
    ),
    "case.ready": _both("Pronto per il rientro a casa?", "Ready for going home?"),
    # forms
    "form.errors": _both(
        "Il modulo non è stato inviato: correggi i campi segnalati.",
        "The form was not sent: correct the fields marked.",
    ),
    "form.refused": _both("Il servizio ha rifiutato la richiesta:", "The service refused:"),
    "form.optional": _both("(facoltativo)", "(optional)"),
    "form.send": _both("Invia", "Send"),
    "assess.title": _both("Valutazione (Fase 2 e BRASS)", "Assessment (Phase 2 and BRASS)"),
    "assess.requirements": _both("Requisiti", "Requirements"),
    "assess.brass": _both("Indice di BRASS", "BRASS index"),
    "assess.brass_hint": _both(
        "Indica il punteggio totale oppure compila le dieci voci (il punteggio si calcola "
        "da sé). Puoi anche lasciarlo vuoto.",
        "Give the total score or fill in the ten items (the score is computed). You may also "
        "leave it empty.",
    ),
    "assess.brass_score": _both("Punteggio BRASS (0–40)", "BRASS score (0–40)"),
    "assess.brass_items": _both("Le dieci voci del BRASS", "The ten BRASS items"),
    "assess.age": _both("Età (anni)", "Age (years)"),
    "assess.living_situation": _both(
        "Condizioni di vita e supporto sociale", "Living situation and social support"
    ),
    "assess.dependencies": _both(
        "Stato funzionale: dipende da altri per", "Functional status: depends on others for"
    ),
    "assess.cognition": _both("Stato cognitivo", "Cognition"),
    "assess.behaviours": _both(
        "Modello comportamentale: non adeguato per", "Behaviour: not appropriate for"
    ),
    "assess.mobility": _both("Mobilità", "Mobility"),
    "assess.sensory_deficits": _both("Deficit sensoriali", "Sensory deficits"),
    "assess.previous_admissions": _both(
        "Ricoveri o accessi al pronto soccorso negli ultimi 3 mesi",
        "Admissions or A&E visits in the last 3 months",
    ),
    "assess.active_problems": _both("Problemi clinici attivi", "Active medical problems"),
    "assess.drugs": _both("Farmaci assunti", "Drugs taken"),
    "assess.choose": _both("— scegli —", "— choose —"),
    "assess.notes": _both("Note della valutazione", "Assessment notes"),
    "assess.send": _both("Registra la valutazione", "Record the assessment"),
    "consent.title": _both("Consenso", "Consent"),
    "consent.given": _both("Il consenso è", "Consent is"),
    "consent.yes": _both("dato", "given"),
    "consent.no": _both("rifiutato", "refused"),
    "consent.given_by": _both("Espresso da", "Expressed by"),
    "consent.person": _both("la persona", "the person"),
    "consent.guardian": _both("il tutore o amministratore di sostegno", "the guardian"),
    "consent.guardian_name": _both(
        "Nome del tutore o amministratore di sostegno", "Guardian's name"
    ),
    "consent.guardian_hint": _both(
        "Solo se il consenso è del tutore.", "Only when the guardian consents."
    ),
    "consent.send": _both("Registra il consenso", "Record consent"),
    "confirm.title": _both("Conferma del piano", "Confirm the plan"),
    "confirm.lead": _both(
        "Le quantità sono quelle proposte: cambiale per adattare il piano (un campo vuoto "
        "toglie il servizio).",
        "The quantities are those proposed: change them to tailor the plan (an empty field "
        "leaves the service out).",
    ),
    "confirm.reason": _both("Perché il piano cambia", "Why the plan changes"),
    "confirm.reason_hint": _both(
        "Serve solo se cambi la proposta. Resta in intake, non viene pubblicato.",
        "Needed only when you change the proposal. Kept in intake, never published.",
    ),
    "confirm.send": _both("Conferma il piano", "Confirm the plan"),
    "plan.title": _both("Revisione del piano", "Revise the plan"),
    "plan.services": _both("Servizi da ora in poi", "Services from now on"),
    "plan.reason_code": _both("Motivo della revisione", "Why the plan is revised"),
    "plan.reason": _both("Spiegazione", "Explanation"),
    "plan.reason_hint": _both(
        "Resta in intake, non viene pubblicata.", "Kept in intake, never published."
    ),
    "plan.send": _both("Rivedi il piano", "Revise the plan"),
    "plan.reason.plan.tailored": _both("Piano adattato alla persona", "Plan tailored"),
    "plan.reason.plan.check_adjustment": _both(
        "Adeguamento dopo una verifica", "Adjusted after a check"
    ),
    "plan.reason.plan.escalation_resolved": _both("Segnalazione risolta", "Escalation resolved"),
    "qty.sad": _both("SAD: ore a settimana", "SAD: hours a week"),
    "qty.meals": _both("Pasti a settimana", "Meals a week"),
    "qty.teleassistance": _both(
        "Teleassistenza: giorni a settimana", "Teleassistance: days a week"
    ),
    "qty.emergency_alarm": _both(
        "Telesoccorso: giorni a settimana", "Emergency alarm: days a week"
    ),
    "network.title": _both("Esito della rete territoriale", "Territorial network's outcome"),
    "network.outcome": _both("Esito", "Outcome"),
    "network.resources": _both("Chi partecipa", "Who takes part"),
    "network.notes": _both("Dettagli", "Details"),
    "network.send": _both("Registra l'esito", "Record the outcome"),
    "resolve.title": _both(
        "Risolvi la segnalazione: {service}", "Resolve the escalation: {service}"
    ),
    "resolve.resolution": _both("Come", "How"),
    "resolve.provider": _both("Ente (se affidato a mano)", "Provider (if assigned by hand)"),
    "resolve.covered_by": _both(
        "Chi della rete (se coperto dalla rete)", "Who in the network (if covered by it)"
    ),
    "resolve.drop_reason": _both(
        "Perché esce dal piano (se tolto)", "Why it leaves the plan (if dropped)"
    ),
    "resolve.send": _both("Risolvi", "Resolve"),
    "drop.plan.not_needed": _both("Non più necessario", "No longer needed"),
    "drop.plan.refused_by_person": _both("Rifiutato dalla persona", "Refused by the person"),
    "drop.plan.covered_otherwise": _both("Garantito in altro modo", "Provided otherwise"),
    "checkform.title": _both("Verifica settimanale", "Weekly check"),
    "checkform.outcome": _both("Esito", "Outcome"),
    "checkform.recommendation": _both("Indicazione", "Recommendation"),
    "checkform.none": _both("nessuna", "none"),
    "checkform.week": _both("Settimana dalla dimissione", "Week since discharge"),
    "checkform.week_hint": _both(
        "Vuoto: la prima settimana non ancora registrata.",
        "Empty: the first week not yet recorded.",
    ),
    "checkform.when": _both("Data e ora della verifica", "Date and time of the check"),
    "checkform.when_hint": _both("Vuoto: adesso.", "Empty: now."),
    "checkform.notes": _both("Note", "Notes"),
    "checkform.send": _both("Registra la verifica", "Record the check"),
    "close.title": _both("Chiusura anticipata", "Close early"),
    "close.outcome": _both("Perché si chiude", "Why it closes"),
    "close.note": _both("Nota", "Note"),
    "close.send": _both("Chiudi il caso", "Close the case"),
    "handover.title": _both("Passaggio al Comune", "Hand over to the municipality"),
    "handover.continuing": _both(
        "Servizi che continuano con il Comune", "Services continuing with the municipality"
    ),
    "handover.municipality": _both("Codice ISTAT del Comune", "Municipality's ISTAT code"),
    "handover.municipality_hint": _both(
        "Vuoto: il Comune di residenza ({code}).", "Empty: the municipality of residence ({code})."
    ),
    "handover.needs": _both("Bisogni da segnalare al Comune", "Needs for the municipality"),
    "handover.contacts": _both("Contatti", "Contacts"),
    "handover.contact": _both("Contatto {n}", "Contact {n}"),
    "handover.contact_name": _both("Nome", "Name"),
    "handover.contact_role": _both("Ruolo o parentela", "Role or relationship"),
    "handover.contact_phone": _both("Telefono", "Phone"),
    "handover.send": _both("Passa il caso al Comune", "Hand the case over"),
    "notice.assessed": _both("Valutazione registrata.", "Assessment recorded."),
    "notice.consent": _both("Consenso registrato.", "Consent recorded."),
    "notice.confirmed": _both("Piano confermato.", "Plan confirmed."),
    "notice.plan": _both("Piano rivisto.", "Plan revised."),
    "notice.network": _both("Esito della rete registrato.", "Network outcome recorded."),
    "notice.check": _both("Verifica registrata.", "Check recorded."),
    "notice.closed": _both("Caso chiuso.", "Case closed."),
    "notice.handed_over": _both("Caso passato al Comune.", "Case handed over."),
    "notice.resolved": _both("Segnalazione risolta.", "Escalation resolved."),
    "notice.pending": _both(
        "Le pagine si aggiornano appena il servizio lo comunica.",
        "The pages update as soon as the service reports it.",
    ),
    # the board
    "board.title": _both("Dimissioni in arrivo", "Coming discharges"),
    "board.lead": _both(
        "Dal {first} al {last}: per ogni servizio, lo stato nel giorno in cui la persona "
        "torna a casa. La tabella si aggiorna da sola.",
        "From {first} to {last}: each service's state on the day the person gets home. The "
        "table updates by itself.",
    ),
    "board.none": _both("Nessuna dimissione in questo periodo.", "No discharges in this period."),
    "board.caption": _both(
        "Dimissioni dal {first} al {last} e stato dei servizi",
        "Discharges from {first} to {last} and their services' state",
    ),
    "board.overall": _both("Tutto pronto?", "All ready?"),
    "board.updated": _both("Aggiornato: {name}", "Updated: {name}"),
    "board.refreshed": _both("Tabella aggiornata", "Table updated"),
    "board.not_in_plan": _both("non previsto", "not in the plan"),
    "board.legend": _both(
        "Legenda: ✓ pronto, ! a rischio, ✕ non pronto.",
        "Key: ✓ ready, ! at risk, ✕ not ready.",
    ),
    **_codes(
        "ready",
        {
            "ready": ("pronto", "ready"),
            "at_risk": ("a rischio", "at risk"),
            "not_ready": ("non pronto", "not ready"),
        },
    ),
    **_codes(
        "why",
        {
            "active": ("attivo dal {day}", "active from {day}"),
            "accepted": ("accettato, inizio il {day}", "accepted, starts on {day}"),
            "covered": ("coperto senza ente", "covered without a provider"),
            "requested": ("richiesto, inizio entro il {day}", "requested, start by {day}"),
            "planned": ("da richiedere", "to be requested"),
            "no_date": ("senza data di inizio", "no start date"),
            "starts_late": ("inizia dopo la dimissione ({day})", "starts after discharge ({day})"),
            "escalated": ("segnalato all'équipe", "escalated to the team"),
            "declined": ("rifiutato dall'ente", "declined by the provider"),
            "undecided": ("caso non ancora deciso", "case not decided yet"),
        },
    ),
    # codes' names
    **_codes(
        "stage",
        {
            "announced": ("da decidere", "to decide"),
            "confirmed": ("ammesso", "eligible"),
            "rejected": ("non ammesso", "not eligible"),
            "cancelled": ("dimissione annullata", "discharge cancelled"),
            "closed": ("chiuso", "closed"),
            "handed_over": ("passato al Comune", "handed over"),
        },
    ),
    **_codes(
        "intake_status",
        {
            "awaiting_assessment": ("in attesa di valutazione", "awaiting assessment"),
            "awaiting_confirmation": ("proposta da confermare", "proposal to confirm"),
            "awaiting_consent": ("in attesa del consenso", "awaiting consent"),
            "eligible": ("ammesso", "eligible"),
            "not_eligible": ("non ammesso", "not eligible"),
            "cancelled": ("annullato", "cancelled"),
            "readmitted": ("di nuovo ricoverato", "readmitted"),
            "closed": ("chiuso", "closed"),
        },
    ),
    **_codes(
        "status",
        {
            "planned": ("da richiedere", "to request"),
            "requested": ("richiesto", "requested"),
            "accepted": ("accettato", "accepted"),
            "declined": ("rifiutato", "declined"),
            "active": ("attivo", "active"),
            "escalated": ("segnalato", "escalated"),
            "covered": ("coperto", "covered"),
            "dropped": ("tolto", "dropped"),
            "ended": ("terminato", "ended"),
        },
    ),
    **_codes(
        "answer",
        {"yes": ("sì", "yes"), "partial": ("in parte", "partly"), "no": ("no", "no")},
    ),
    **_codes(
        "band",
        {"low": ("basso", "low"), "medium": ("medio", "medium"), "high": ("alto", "high")},
    ),
    **_codes(
        "intensity",
        {"low": ("bassa", "low"), "medium": ("media", "medium"), "high": ("alta", "high")},
    ),
    **_codes(
        "escalation",
        {
            "all_providers_declined": ("tutti gli enti hanno rifiutato", "every provider declined"),
            "no_answer_before_deadline": (
                "nessuna risposta in tempo",
                "no answer before the deadline",
            ),
            "cannot_start_before_discharge": (
                "nessuno può iniziare prima della dimissione",
                "nobody can start before the discharge",
            ),
            "no_provider_available": ("nessun ente disponibile", "no provider available"),
        },
    ),
    **_codes(
        "resolution",
        {
            "manual_provider": ("affidato a un ente scelto a mano", "provider assigned by hand"),
            "family": ("coperto dalla famiglia", "covered by the family"),
            "territorial_network": (
                "coperto dalla rete territoriale",
                "covered by the territorial network",
            ),
            "dropped": ("tolto dal piano", "dropped from the plan"),
            "postponement_requested": (
                "chiesto al reparto di rinviare la dimissione",
                "ward asked to postpone the discharge",
            ),
        },
    ),
    **_codes(
        "network",
        {
            "engaged": ("rete attivata", "network engaged"),
            "partially_engaged": ("rete attivata in parte", "network partly engaged"),
            "not_available": ("rete non disponibile", "network not available"),
            "volunteers": ("volontari", "volunteers"),
            "parish": ("parrocchia", "parish"),
            "neighbours": ("vicini di casa", "neighbours"),
            "family_community_nurse": (
                "infermiere di famiglia e comunità",
                "family and community nurse",
            ),
            "family": ("famiglia", "family"),
        },
    ),
    **_codes(
        "check",
        {
            "stable": ("situazione stabile", "stable"),
            "needs_adjustment": ("serve un adeguamento", "needs adjustment"),
            "critical": ("situazione critica", "critical"),
        },
    ),
    **_codes(
        "recommendation",
        {
            "continue": ("continuare", "continue"),
            "close": ("chiudere", "close"),
            "hand_over_to_municipality": (
                "passare al Comune",
                "hand over to the municipality",
            ),
        },
    ),
    **_codes(
        "outcome",
        {
            "completed": ("percorso completato", "completed"),
            "handed_over_to_municipality": ("passato al Comune", "handed over"),
            "readmitted": ("nuovo ricovero", "readmitted"),
            "deceased": ("decesso", "deceased"),
            "institutionalised": ("inserimento in struttura", "admitted to a care home"),
            "withdrawn": ("rinuncia", "withdrawn"),
        },
    ),
    **_codes(
        "decline",
        {
            "capacity": ("posti esauriti", "no capacity"),
            "out_of_area": ("fuori zona", "out of area"),
            "missing_information": ("informazioni mancanti", "missing information"),
            "not_eligible": ("requisiti non soddisfatti", "not eligible"),
            "other": ("altro motivo", "another reason"),
        },
    ),
    **_codes(
        "living",
        {
            "with_spouse": ("vive con il coniuge", "lives with spouse"),
            "with_family": ("vive con la famiglia", "lives with family"),
            "alone_with_family_support": (
                "vive solo, con il supporto della famiglia",
                "alone, with family support",
            ),
            "alone_with_friends_support": (
                "vive solo, con il supporto di amici",
                "alone, with friends' support",
            ),
            "alone_without_support": ("vive solo, senza supporto", "alone, without support"),
            "home_or_residential_care": (
                "assistenza domiciliare o residenziale",
                "home or residential care",
            ),
        },
    ),
    **_codes(
        "dependency",
        {
            "eating": ("alimentazione", "eating"),
            "bathing_dressing": ("igiene e vestirsi", "bathing and dressing"),
            "toileting": ("uso del bagno", "toileting"),
            "transferring": ("spostamenti", "transferring"),
            "bowel_incontinence": ("incontinenza fecale", "bowel incontinence"),
            "urinary_incontinence": ("incontinenza urinaria", "urinary incontinence"),
            "meal_preparation": ("preparare i pasti", "preparing meals"),
            "medication": ("assumere i farmaci", "taking medication"),
            "money": ("gestire il denaro", "handling money"),
            "shopping": ("fare la spesa", "shopping"),
            "transport": ("trasporti", "transport"),
        },
    ),
    **_codes(
        "cognition",
        {
            "oriented": ("orientato", "oriented"),
            "disoriented_some_spheres_sometimes": (
                "disorientato in alcune sfere, a volte",
                "disoriented in some spheres, sometimes",
            ),
            "disoriented_some_spheres_always": (
                "disorientato in alcune sfere, sempre",
                "disoriented in some spheres, always",
            ),
            "disoriented_all_spheres_sometimes": (
                "disorientato in tutte le sfere, a volte",
                "disoriented in every sphere, sometimes",
            ),
            "disoriented_all_spheres_always": (
                "disorientato in tutte le sfere, sempre",
                "disoriented in every sphere, always",
            ),
            "comatose": ("in coma", "comatose"),
        },
    ),
    **_codes(
        "behaviour",
        {
            "wandering": ("vagabondaggio", "wandering"),
            "agitated": ("agitazione", "agitated"),
            "confused": ("confusione", "confused"),
            "other": ("altro", "other"),
        },
    ),
    **_codes(
        "mobility",
        {
            "walks": ("cammina da solo", "walks"),
            "walks_with_aids": ("cammina con ausili", "walks with aids"),
            "walks_with_assistance": ("cammina con l'aiuto di una persona", "walks with help"),
            "does_not_walk": ("non cammina", "does not walk"),
        },
    ),
    **_codes(
        "sensory",
        {
            "none": ("nessuno", "none"),
            "vision_or_hearing": ("vista o udito", "vision or hearing"),
            "vision_and_hearing": ("vista e udito", "vision and hearing"),
        },
    ),
    # the services' refusals the desk says in its own words (some services answer in English)
    **_codes(
        "refusal",
        {
            "check.all_recorded": (
                "Tutte le verifiche settimanali sono già registrate.",
                "Every weekly check is already recorded.",
            ),
            "check.in_future": (
                "La verifica non può essere nel futuro.",
                "The check cannot be in the future.",
            ),
            "check.week_not_scheduled": (
                "Quella settimana non è in programma per questo caso.",
                "That week is not scheduled for this case.",
            ),
            "check.week_recorded": (
                "La verifica di quella settimana è già registrata.",
                "That week's check is already recorded.",
            ),
            "case.unknown": (
                "Il servizio non conosce ancora questo caso: riprova tra poco.",
                "The service does not know this case yet: try again shortly.",
            ),
            "followup.closed": ("Il monitoraggio del caso è chiuso.", "The follow-up is closed."),
            "followup.cancelled": (
                "La dimissione è stata annullata: non c'è monitoraggio.",
                "The discharge was cancelled: there is no follow-up.",
            ),
            "followup.not_started": (
                "Il monitoraggio comincia con la dimissione.",
                "The follow-up starts at the discharge.",
            ),
            "plan.cap_exceeded": (
                "Il piano supera il tetto di ore SAD per persona: serve la deroga "
                "dell'ufficio di piano.",
                "The plan exceeds the SAD hours cap per person: the district's exception is "
                "needed.",
            ),
            "request.invalid": (
                "Il servizio non ha accettato i dati inviati: controlla il modulo.",
                "The service did not accept the data sent: check the form.",
            ),
        },
    ),
    # the timeline, a sentence per event type
    **_codes(
        "event",
        {
            "DischargeAnnounced": (
                "L'ospedale annuncia la dimissione dal reparto {ward}, prevista il {day}.",
                "The hospital announces the discharge from ward {ward}, expected on {day}.",
            ),
            "DischargeRescheduled": (
                "L'ospedale sposta la dimissione al {day}.",
                "The hospital moves the discharge to {day}.",
            ),
            "DischargeCancelled": (
                "L'ospedale annulla la dimissione.",
                "The hospital cancels the discharge.",
            ),
            "PatientReadmitted": (
                "La persona è di nuovo ricoverata dal {day}.",
                "The person is readmitted from {day}.",
            ),
            "PatientDetailsUpdated": (
                "L'ospedale aggiorna i recapiti della persona.",
                "The hospital updates the person's contact details.",
            ),
            "EligibilityConfirmed": (
                "Ammissione confermata: intensità {intensity}, piano versione {version} "
                "({services}); decisione: {by}.",
                "Eligibility confirmed: {intensity} intensity, plan version {version} "
                "({services}); decided by: {by}.",
            ),
            "EligibilityRejected": (
                "Non ammesso; decisione: {by}.",
                "Not eligible; decided by: {by}.",
            ),
            "PlanRevised": (
                "Piano rivisto alla versione {version} ({services}) da {by}: {reason}.",
                "Plan revised to version {version} ({services}) by {by}: {reason}.",
            ),
            "NetworkTaskOpened": (
                "Si attiva la rete territoriale (persona senza caregiver).",
                "The territorial network is engaged (no caregiver).",
            ),
            "NetworkTaskCompleted": (
                "Rete territoriale: {network}.",
                "Territorial network: {network}.",
            ),
            "ServiceActivationRequested": (
                "{service}: richiesto a {provider}, inizio entro il {day}.",
                "{service}: requested from {provider}, start by {day}.",
            ),
            "ServiceActivated": (
                "{service}: attivo con {provider} dal {day}.",
                "{service}: active with {provider} from {day}.",
            ),
            "ServiceActivationEscalated": (
                "{service}: segnalato all'équipe ({reason}).",
                "{service}: escalated to the team ({reason}).",
            ),
            "EscalationResolved": (
                "{service}: segnalazione risolta, {resolution} ({by}).",
                "{service}: escalation resolved, {resolution} ({by}).",
            ),
            "DischargePostponementRequested": (
                "Chiesto al reparto di rinviare la dimissione al {day}.",
                "The ward is asked to postpone the discharge to {day}.",
            ),
            "ServiceDeactivated": (
                "{service}: termina con {provider}, ultimo giorno il {day}.",
                "{service}: ends with {provider}, last day {day}.",
            ),
            "ServiceActivationAccepted": (
                "{provider} accetta la richiesta: inizio il {moment}.",
                "{provider} accepts the request: starts on {moment}.",
            ),
            "ServiceActivationDeclined": (
                "{provider} rifiuta la richiesta: {decline}.",
                "{provider} declines the request: {decline}.",
            ),
            "HoursDelivered": (
                "{provider}: {service} erogato il {day} (quantità {quantity}).",
                "{provider}: {service} delivered on {day} (quantity {quantity}).",
            ),
            "WeeklyCheckDone": (
                "Verifica della settimana {week}: {check}.",
                "Week {week} check: {check}.",
            ),
            "CaseHandedOver": (
                "Caso passato al Comune {municipality}.",
                "Case handed over to municipality {municipality}.",
            ),
            "CaseClosed": ("Caso chiuso: {outcome}.", "Case closed: {outcome}."),
        },
    ),
}

i18n.register(WORDS)
