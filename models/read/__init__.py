"""The read side of the domain: the programme as seen at an instant.

Each module here rebuilds, from the stored facts, what was true at `as_of` and returns plain
values (dataclasses) for the reports, exports, lists and pages to render; nothing here acts,
notifies or renders. The read side sits above the concept modules (`models.accompaniment`,
`models.training`, `models.deliverables`…): it imports them, they never import it. What an act
also reads to decide (a pilot's progress for its notices, the undo log of `models.history`)
stays with its concept.

One function per screen of the portal (`territory`, `consultancy`, `juror`, `overview`; `pilot` for
what they share), the status, the report's data, the steps, sessions and deliverables lists.
"""
