/**
 * The operations of Comments, written by hand as a user of the kit would: the comments live in memory.
 *
 * Ids are numbered from 1 in the order comments are written, so both implementations, sent the same requests, answer
 * with the same ids. A missing comment is the spec's own error shape, `{"errors": {"body": [...]}}`.
 */
import type { components } from "../generated/schema.js";
import type * as api from "../generated/service.js";

type Comment = components["schemas"]["Comment"];
type GenericError = components["schemas"]["GenericErrorModel"];

const NOT_FOUND: GenericError = { errors: { body: ["No comment with this id."] } };

/** Who is calling: Comments has no security scheme, so nobody in particular. */
export interface Caller {
  readonly credential: string;
}

export class Service implements api.Service {
  private readonly comments = new Map<number, Comment>();
  private lastId = 0;

  async listComments(request: api.ListCommentsRequest, _reply: api.ListCommentsReply): Promise<api.ListCommentsResult> {
    const newest = [...this.comments.keys()].sort((a, b) => b - a).slice(0, request.query.limit ?? 20);
    return { comments: newest.map((id) => this.comments.get(id) as Comment), commentsCount: this.comments.size };
  }

  async createComment(request: api.CreateCommentRequest, reply: api.CreateCommentReply): Promise<api.CreateCommentResult> {
    this.lastId += 1;
    const comment: Comment = { id: this.lastId, body: request.body.comment.body };
    this.comments.set(comment.id, comment);
    reply.code(201);
    return { comment };
  }

  async getComment(request: api.GetCommentRequest, reply: api.GetCommentReply): Promise<api.GetCommentResult> {
    const comment = this.comments.get(request.params.id);
    if (comment === undefined) {
      reply.code(404);
      return NOT_FOUND;
    }
    return { comment };
  }

  async deleteComment(request: api.DeleteCommentRequest, reply: api.DeleteCommentReply): Promise<api.DeleteCommentResult> {
    if (!this.comments.delete(request.params.id)) {
      reply.code(404);
      return NOT_FOUND;
    }
    return undefined;
  }
}

export class Security implements api.SecurityHandlers {}
