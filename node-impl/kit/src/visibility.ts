/**
 * readOnly and writeOnly: what leaves a request body before the handler sees it and a response before it is sent.
 *
 * The generator plans it (the contract document's `visibility`, see twinapi-codegen's visibility.py): a readOnly
 * property a client sends anyway is validated like any other, then removed, so that a client echoing a GET body into
 * a PUT is served; a writeOnly property (a password) is removed from every response, whatever the handler returned.
 * The Python runtime walks the same plans the same way (visibility.py).
 */
import { ContractError } from "./contract.js";
import { type Json, isObject } from "./spec.js";

const entries = (node: Json | undefined): [string, Json][] => (isObject(node) ? Object.entries(node) : []);

/** What to remove at one place of a body, and the plans of the places inside it. */
export interface Plan {
  /** Filled in once every plan exists: plans refer to each other (recursive schemas). */
  drop: readonly string[];
  properties: ReadonlyMap<string, Plan>;
  items: Plan | null;
  prefixItems: readonly (Plan | null)[];
  additionalProperties: Plan | null;
  declared: ReadonlySet<string>;
}

/**
 * The value without what the plan removes. Objects and arrays are copied where something inside them goes, never
 * changed: a handler's reply may be an object it keeps.
 */
export function omit(plan: Plan, value: unknown): unknown {
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    let out: unknown[] | null = null;
    for (let index = 0; index < items.length; index++) {
      const inner = index < plan.prefixItems.length ? (plan.prefixItems[index] ?? null) : plan.items;
      if (inner === null) continue;
      const kept = omit(inner, items[index]);
      if (kept === items[index]) continue;
      out ??= [...items];
      out[index] = kept;
    }
    return out ?? value;
  }
  if (typeof value !== "object" || value === null) return value;
  const source = value as Record<string, unknown>;
  const changed = new Map<string, unknown>();
  const prune = (name: string, inner: Plan): void => {
    const kept = omit(inner, source[name]);
    if (kept !== source[name]) changed.set(name, kept);
  };
  for (const [name, inner] of plan.properties) {
    if (Object.hasOwn(source, name)) prune(name, inner);
  }
  const extra = plan.additionalProperties;
  if (extra !== null) {
    for (const name of Object.keys(source)) {
      if (!plan.declared.has(name)) prune(name, extra);
    }
  }
  const dropped = plan.drop.filter((name) => Object.hasOwn(source, name));
  if (dropped.length === 0 && changed.size === 0) return value;
  const out: Record<string, unknown> = { ...source };
  // Defined, not assigned: a key named `__proto__` stays a key.
  for (const [name, kept] of changed)
    Object.defineProperty(out, name, { value: kept, enumerable: true, writable: true, configurable: true });
  for (const name of dropped) Reflect.deleteProperty(out, name);
  return out;
}

const AGAIN = "run `make generate`";

function linkedIn(plans: readonly Plan[], index: Json | undefined): Plan {
  const plan = typeof index === "number" && Number.isInteger(index) ? plans[index] : undefined;
  if (plan === undefined) throw new ContractError(`the contract document's visibility: ${JSON.stringify(index)} names no plan: ${AGAIN}`);
  return plan;
}

function plansOf(raw: Json): Plan[] {
  if (!Array.isArray(raw)) throw new ContractError(`the contract document's visibility: \`plans\` must be a list: ${AGAIN}`);
  const plans: Plan[] = raw.map(() => ({
    drop: [],
    properties: new Map(),
    items: null,
    prefixItems: [],
    additionalProperties: null,
    declared: new Set(),
  }));
  const linked = (index: Json | undefined): Plan => linkedIn(plans, index);
  const strings = (list: Json | undefined): string[] => (Array.isArray(list) ? list.map(String) : []);
  raw.forEach((entry, index) => {
    const plan = plans[index] as Plan;
    if (!isObject(entry)) throw new ContractError(`the contract document's visibility: a plan must be an object: ${AGAIN}`);
    plan.drop = strings(entry["drop"]);
    plan.properties = new Map(entries(entry["properties"]).map(([name, at]) => [name, linked(at)]));
    plan.items = "items" in entry ? linked(entry["items"]) : null;
    const prefix = entry["prefixItems"];
    plan.prefixItems = Array.isArray(prefix) ? prefix.map((at) => (at === null ? null : linked(at))) : [];
    plan.additionalProperties = "additionalProperties" in entry ? linked(entry["additionalProperties"]) : null;
    plan.declared = new Set(strings(entry["declared"]));
  });
  return plans;
}

function baseOf(mediaType: string): string {
  return mediaType.split(";", 1)[0]?.trim().toLowerCase() ?? "";
}

/** validation.ts's reading of a JSON media type, which imports this module. */
function isJsonMedia(base: string): boolean {
  return base === "application/json" || base.endsWith("+json");
}

/** An operation's response plans by documented status (`200`, `2XX`, `default`) and media type. */
export class ResponsePlans {
  constructor(private readonly byStatus: ReadonlyMap<string, ReadonlyMap<string, Plan>>) {}

  /**
   * The plan of a response: its status as documented (exact, then its class, then `default`), then its media type; a
   * JSON response of a media type the status does not document takes the status's first JSON plan.
   */
  find(status: number, mediaType: string | undefined): Plan | null {
    const code = String(status);
    const plans = this.byStatus.get(code) ?? this.byStatus.get(`${code[0] ?? ""}XX`) ?? this.byStatus.get("default");
    if (plans === undefined) return null;
    const base = baseOf(mediaType ?? "application/json");
    const found = plans.get(base);
    if (found !== undefined) return found;
    if (!isJsonMedia(base)) return null;
    return [...plans].find(([media]) => isJsonMedia(media))?.[1] ?? null;
  }
}

/** The contract document's `visibility`, by operation (the spec's path template and lower-case method). */
export class Visibility {
  private readonly requests = new Map<string, ReadonlyMap<string, Plan>>();
  private readonly responsePlans = new Map<string, ResponsePlans>();

  constructor(section: Json | undefined) {
    if (section === undefined) return;
    if (!isObject(section)) throw new ContractError(`the contract document's \`visibility\` is not an object: ${AGAIN}`);
    const plans = plansOf(section["plans"] ?? []);
    const byMedia = (node: Json): Map<string, Plan> => new Map(entries(node).map(([media, at]) => [media, linkedIn(plans, at)]));
    for (const [path, methods] of entries(section["requests"])) {
      for (const [method, media] of entries(methods)) this.requests.set(`${method} ${path}`, byMedia(media));
    }
    for (const [path, methods] of entries(section["responses"])) {
      for (const [method, statuses] of entries(methods)) {
        const byStatus = new Map(entries(statuses).map(([status, media]) => [status, byMedia(media)]));
        this.responsePlans.set(`${method} ${path}`, new ResponsePlans(byStatus));
      }
    }
  }

  /** What to remove from a request body of this media type (lower case, no parameters). */
  request(path: string, method: string, mediaType: string): Plan | null {
    return this.requests.get(`${method.toLowerCase()} ${path}`)?.get(mediaType) ?? null;
  }

  responses(path: string, method: string): ResponsePlans | null {
    return this.responsePlans.get(`${method.toLowerCase()} ${path}`) ?? null;
  }
}
