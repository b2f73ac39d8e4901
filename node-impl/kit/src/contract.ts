/** What generated code (src/generated) hands the kit: the parts of the spec that are not schemas. */

/** The spec and the generated code disagree, or the spec asks for something the kit cannot serve (said in one line). */
export class ContractError extends Error {
  override name = "ContractError";
}

export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE" | "OPTIONS" | "HEAD" | "PATCH" | "TRACE";

/** OpenAPI path-item order: the order of methods in an `Allow` header. */
export const METHOD_ORDER: readonly HttpMethod[] = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"];

export interface SecuritySchemeInfo {
  /** The SecurityHandlers method that checks this scheme's credential. */
  readonly handler: string;
  /** The spec's type; null for a name a security requirement uses without declaring it. */
  readonly type: string | null;
  readonly scheme: string | null;
  readonly in: string | null;
  readonly param: string | null;
}

export interface OperationInfo {
  readonly id: string;
  /** The Service method that answers this operation. */
  readonly handler: string;
  readonly method: HttpMethod;
  readonly path: string;
  /** Alternatives, each a list of scheme names that must all pass; an empty list inside makes auth optional. */
  readonly security: readonly (readonly string[])[];
  readonly body: { readonly required: boolean; readonly mediaTypes: readonly string[] } | null;
}

export interface Contract {
  readonly title: string;
  readonly version: string;
  readonly securitySchemes: Readonly<Record<string, SecuritySchemeInfo>>;
  /** The ErrorBodies method that builds each error shape the contract documents, by the shape's name. */
  readonly errorBodies?: Readonly<Record<string, string>>;
  readonly operations: readonly OperationInfo[];
}

export interface FormatDefinition {
  readonly pattern: RegExp;
  /** Also check that the date (and time) exists, which a regex cannot do for leap years. */
  readonly calendar: "date" | "date-time" | null;
}
