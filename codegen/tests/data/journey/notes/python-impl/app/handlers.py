"""The operations of Notes, written by hand as a user of the kit would: the notes live in memory.

Ids are numbered from 1 in the order notes are written, so both implementations, sent the same requests, answer
with the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from twinapi_runtime import Context
from twinapi_runtime.problems import TITLES

from app.generated import models
from app.generated import operations as ops

NO_NOTE = "No note with this id."


@dataclass(frozen=True)
class Caller:
    """Who is calling: Notes has no security scheme, so nobody in particular."""

    credentials: str


def _not_found(ctx: Context) -> models.Problem:
    return models.Problem(type="about:blank", title=TITLES[404], status=404, detail=NO_NOTE, instance=ctx.path)


class Service(ops.Operations):
    def __init__(self) -> None:
        self._notes: dict[int, models.Note] = {}
        self._last_id = 0

    async def list_notes(self, ctx: Context, params: models.ListNotesParams) -> ops.ListNotesResponse:
        first = sorted(self._notes)[: params.limit]
        return ops.ListNotes200(models.ListNotes200Response([self._notes[key] for key in first]))

    async def create_note(self, ctx: Context, body: models.NewNote) -> ops.CreateNoteResponse:
        self._last_id += 1
        note = models.Note(id=self._last_id, title=body.title, text=body.text, pinned=body.pinned)
        self._notes[note.id] = note
        return ops.CreateNote201(note, location=f"/notes/{note.id}")

    async def get_note(self, ctx: Context, params: models.GetNoteParams) -> ops.GetNoteResponse:
        note = self._notes.get(params.note_id)
        if note is None:
            return ops.GetNote404(_not_found(ctx))
        return ops.GetNote200(note)

    async def delete_note(self, ctx: Context, params: models.DeleteNoteParams) -> ops.DeleteNoteResponse:
        if self._notes.pop(params.note_id, None) is None:
            return ops.DeleteNote404(_not_found(ctx))
        return ops.DeleteNote204()


class Security(ops.SecurityHandlers[Caller]):
    pass
