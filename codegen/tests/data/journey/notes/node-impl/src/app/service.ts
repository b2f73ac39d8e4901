/**
 * The operations of Notes, written by hand as a user of the kit would: the notes live in memory.
 *
 * Ids are numbered from 1 in the order notes are written, so both implementations, sent the same requests, answer
 * with the same ids.
 */
import type { components } from "../generated/schema.js";
import type * as api from "../generated/service.js";
import { Problem } from "fastify-twinapi";

type Note = components["schemas"]["Note"];

const NO_NOTE = "No note with this id.";

/** Who is calling: Notes has no security scheme, so nobody in particular. */
export interface Caller {
  readonly credential: string;
}

export class Service implements api.Service {
  private readonly notes = new Map<number, Note>();
  private lastId = 0;

  async listNotes(request: api.ListNotesRequest, _reply: api.ListNotesReply): Promise<api.ListNotesResult> {
    const first = [...this.notes.keys()].sort((a, b) => a - b).slice(0, request.query.limit ?? 20);
    return first.map((id) => this.notes.get(id) as Note);
  }

  async createNote(request: api.CreateNoteRequest, reply: api.CreateNoteReply): Promise<api.CreateNoteResult> {
    this.lastId += 1;
    const { title, text, pinned } = request.body;
    const note: Note = { id: this.lastId, title, text: text ?? "", pinned: pinned ?? false };
    this.notes.set(note.id, note);
    reply.code(201).header("location", `/notes/${note.id}`);
    return note;
  }

  async getNote(request: api.GetNoteRequest, _reply: api.GetNoteReply): Promise<api.GetNoteResult> {
    const note = this.notes.get(request.params.noteId);
    if (note === undefined) throw new Problem(404, NO_NOTE);
    return note;
  }

  async deleteNote(request: api.DeleteNoteRequest, reply: api.DeleteNoteReply): Promise<api.DeleteNoteResult> {
    if (!this.notes.delete(request.params.noteId)) throw new Problem(404, NO_NOTE);
    reply.code(204);
    return undefined;
  }
}

export class Security implements api.SecurityHandlers {}
