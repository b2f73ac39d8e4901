"""readOnly and writeOnly: the shape each schema has in requests and in responses, derived once, here.

OpenAPI: a readOnly property is sent in responses only and its `required` applies to responses only; a writeOnly
property (a password) is sent in requests only, its `required` applying there. Specs use one schema for both
directions (a `Pet` whose `id` is required and readOnly), so every consumer needs the directed shapes:

- `served(data)`: the contract document's served form. Request bodies are checked by request shapes (a readOnly
  property is no longer required, but still checked when sent) and responses serialised by response shapes (no
  writeOnly property at all).
- `typed(data)`: the document the models and the TypeScript types are made from. Request bodies have no readOnly
  property, responses no writeOnly one: what a handler receives and what it may return.
- `plans(data)`: what both runtimes remove, after validation, from a request body (its readOnly properties: the
  handler never sees them, so a client that echoes a GET body into a PUT is served) and, before serialisation, from
  a response body (its writeOnly properties, whatever the handler returned).

A schema that needs a directed shape becomes a component of its own (`PetRequest`, `PetResponse`: the name and a
suffix, made unique), built from the original and referring to the directed shapes of what it refers to; bodies and
responses refer to those. The original components stay as they are. A property is readOnly when its schema says so,
or a schema it refers to (`$ref`), an `allOf` member, or every non-null branch of its `anyOf`/`oneOf` does.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from twinapi_codegen.errors import pointer
from twinapi_codegen.loader import HTTP_METHODS
from twinapi_codegen.naming import unique

REQUEST = "request"
RESPONSE = "response"
FLAGS = {REQUEST: "readOnly", RESPONSE: "writeOnly"}
SUFFIXES = {REQUEST: "Request", RESPONSE: "Response"}
SCHEMAS = "/components/schemas/"

# Where a schema holds subschemas, by how they are held.
_ONE = frozenset({"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"})
_ONE |= {"unevaluatedItems", "unevaluatedProperties", "additionalItems", "contentSchema"}
_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
# Subschemas that describe the instance itself: a `required` in them means the properties of the schema around them.
_SAME_INSTANCE = frozenset({"allOf", "anyOf", "oneOf", "then", "else", "dependentSchemas"})
# What a removal plan follows: properties, array items, and the schemas merged into one place.
_PLAN_EDGES = frozenset({"properties", "items", "prefixItems", "additionalProperties", "allOf", "anyOf", "oneOf"})
_PLAN_EDGES |= {"then", "else", "dependentSchemas"}
_DATA = frozenset({"example", "examples", "default", "enum", "const"})


@dataclass(frozen=True)
class Site:
    """A body schema of one direction: where it is, and the operation, status and media type it belongs to."""

    direction: str
    path: str
    method: str
    status: str | None  # responses only
    media: str  # lower case, without parameters
    schema: str  # JSON pointer of the schema


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _tokens(ptr: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in ptr.split("/")[1:]] if ptr else []


def _at(data: Any, ptr: str) -> Any:
    node = data
    for part in _tokens(ptr):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _target(ref: Any) -> str | None:
    """The JSON pointer a local `$ref` names (its fragment percent-decoded), or None."""
    return unquote(ref[1:]) if isinstance(ref, str) and ref.startswith("#") else None


def _resolved(data: Any, ptr: str, node: Any) -> tuple[str, Any]:
    seen: set[str] = set()
    while isinstance(node, dict) and (target := _target(node.get("$ref"))) is not None and target not in seen:
        seen.add(target)
        ptr, node = target, _at(data, target)
    return ptr, node


def sites(data: dict[str, Any]) -> Iterator[Site]:
    """Every JSON, form or other body schema of the operations, request bodies and responses alike."""
    for path, raw_item in (data.get("paths") or {}).items():
        item_at, item = _resolved(data, pointer("paths", path), raw_item)
        if not isinstance(item, dict):
            continue
        # Where the path item is a reference, its schemas are where it points.
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            base = item_at + pointer(method)
            if "requestBody" in op:
                where, body = _resolved(data, base + "/requestBody", op["requestBody"])
                yield from _content(REQUEST, path, method, None, where, body)
            for status, raw in (op.get("responses") or {}).items():
                where, response = _resolved(data, base + pointer("responses", str(status)), raw)
                key = str(status) if str(status) == "default" else str(status).upper()
                yield from _content(RESPONSE, path, method, key, where, response)


def _content(direction: str, path: str, method: str, status: str | None, where: str, holder: Any) -> Iterator[Site]:
    content = holder.get("content") if isinstance(holder, dict) else None
    for media, entry in (content or {}).items() if isinstance(content, dict) else ():
        if isinstance(entry, dict) and "schema" in entry:
            key = media.split(";", 1)[0].strip().lower()
            yield Site(direction, path, method, status, key, where + pointer("content", media, "schema"))


class _Graph:
    """The schemas of a document as a graph (subschemas and `$ref` targets): which reach a property with a flag."""

    def __init__(
        self,
        data: dict[str, Any],
        flag: str,
        roots: list[str],
        edges: frozenset[str] | None,
        inside: frozenset[str] = frozenset(),
    ) -> None:
        self.data = data
        self.flag = flag
        self.edges = edges  # the keywords followed; None for all of them
        self.into: dict[str, set[str]] = {}
        self.reaching: set[str] = set()
        pending = list(roots)
        seen: set[str] = set()
        seeds: list[str] = []
        while pending:
            ptr = pending.pop()
            if ptr in seen:
                continue
            seen.add(ptr)
            node = _at(data, ptr)
            children = list(self._children(ptr, node))
            self.into.setdefault(ptr, set())
            for child in children:
                self.into.setdefault(child, set()).add(ptr)
                pending.append(child)
            if isinstance(node, dict) and isinstance(node.get("properties"), dict):
                if any(flagged(data, p, flag) for p in node["properties"].values()):
                    seeds.append(ptr)
            if inside and _within(ptr, inside):
                seeds.append(ptr)
        while seeds:
            ptr = seeds.pop()
            if ptr not in self.reaching:
                self.reaching.add(ptr)
                seeds.extend(self.into.get(ptr, ()))

    def _children(self, ptr: str, node: Any) -> Iterator[str]:
        if not isinstance(node, dict):
            return
        target = _target(node.get("$ref"))
        if target is not None and _at(self.data, target) is not None:
            yield target
        for key, value in node.items():
            if self.edges is not None and key not in self.edges:
                continue
            here = ptr + pointer(key)
            if key in _ONE and isinstance(value, dict):
                yield here
            elif key in _LISTS and isinstance(value, list):
                yield from (here + pointer(i) for i, v in enumerate(value) if isinstance(v, dict))
            elif key in _MAPS and isinstance(value, dict):
                yield from (here + pointer(k) for k, v in value.items() if isinstance(v, dict))


def _within(ptr: str, places: frozenset[str]) -> bool:
    """Whether `ptr` is one of `places` or inside one."""
    while ptr:
        if ptr in places:
            return True
        ptr = ptr.rsplit("/", 1)[0]
    return False


def flagged(data: Any, prop: Any, flag: str, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a property's schema carries `flag`: itself, through `$ref`, an allOf member, or every non-null branch."""
    if not isinstance(prop, dict):
        return False
    if prop.get(flag) is True:
        return True
    target = _target(prop.get("$ref"))
    if target is not None and target not in seen and flagged(data, _at(data, target), flag, seen | {target}):
        return True
    if any(flagged(data, member, flag, seen) for member in prop.get("allOf") or [] if isinstance(member, dict)):
        return True
    for key in ("anyOf", "oneOf"):
        branches = [b for b in prop.get(key) or [] if isinstance(b, dict) and b != {"type": "null"}]
        if branches and all(flagged(data, b, flag, seen) for b in branches):
            return True
    return False


def _roots(data: dict[str, Any], found: list[Site]) -> list[str]:
    names = (data.get("components") or {}).get("schemas") or {}
    return [s.schema for s in found] + [SCHEMAS + _escape(name) for name in names]


class _Directed:
    """One direction's shapes: `remove` drops the flagged properties, otherwise they are only no longer required.
    `served`: the shapes are validated by (not made into types), so implicit discriminator tags are kept explicitly."""

    def __init__(
        self,
        data: dict[str, Any],
        direction: str,
        remove: bool,
        taken: set[str],
        found: list[Site],
        rewritten: frozenset[str],
        served: bool,
    ) -> None:
        self.data = data
        self.served = served
        self.flag = FLAGS[direction]
        self.suffix = SUFFIXES[direction]
        self.remove = remove
        self.taken = taken
        # Body schemas are rewritten in place: a reference into one that changes gets a component of its own, made
        # from the original, and so does every schema on the way to it.
        self.graph = _Graph(data, self.flag, _roots(data, found), None, rewritten)
        self.names: dict[str, str] = {}  # pointer of a schema -> the component made of it
        self.made: dict[str, Any] = {}
        self.pending: list[str] = []

    def needs(self, ptr: str) -> bool:
        return ptr in self.graph.reaching

    def site(self, ptr: str) -> Any:
        shape = self.shape(ptr, _at(self.data, ptr), frozenset())
        while self.pending:
            target = self.pending.pop()
            self.made[self.names[target]] = self.shape(target, _at(self.data, target), frozenset())
        return shape

    def ref(self, value: str) -> str:
        target = _target(value)
        if target is None or _at(self.data, target) is None or not self.needs(target):
            return value
        if target not in self.names:
            tokens = _tokens(target)
            if target.startswith(SCHEMAS) and len(tokens) == 3:
                base = tokens[2]
            else:
                base = "_".join(p for p in (re.sub(r"[^A-Za-z0-9]+", "_", t).strip("_") for t in tokens) if p)
            self.names[target] = unique(base + self.suffix, self.taken)
            self.pending.append(target)
        return "#" + SCHEMAS + _escape(self.names[target])

    def own_flagged(self, ptr: str, node: dict[str, Any], seen: frozenset[str] = frozenset()) -> set[str]:
        """The flagged properties a schema declares: itself, the schema it refers to, or its allOf members."""
        properties = node.get("properties")
        names = set()
        if isinstance(properties, dict):
            names = {n for n, p in properties.items() if flagged(self.data, p, self.flag)}
        members = [(ptr + pointer("allOf", i), m) for i, m in enumerate(node.get("allOf") or [])]
        if isinstance(node.get("$ref"), str):
            members.append((ptr, {"$ref": node["$ref"]}))
        for where, member in members:
            where, resolved = _resolved(self.data, where, member)
            if isinstance(resolved, dict) and where not in seen:
                names |= self.own_flagged(where, resolved, seen | {where, ptr})
        return names

    def shape(self, ptr: str, node: Any, context: frozenset[str]) -> Any:
        """The directed copy of the schema at `ptr`; `context`: flagged names of the schema around it."""
        if not isinstance(node, dict) or (not self.needs(ptr) and not context):
            return copy.deepcopy(node)
        group = frozenset(self.own_flagged(ptr, node)) | context
        out: dict[str, Any] = {}
        for key, value in node.items():
            here = ptr + pointer(key)
            inner = group if key in _SAME_INSTANCE else frozenset()
            if key in _DATA or key.startswith("x-"):
                out[key] = copy.deepcopy(value)
            elif key == "$ref" and isinstance(value, str):
                out[key] = self.ref(value)
            elif key == "required" and isinstance(value, list):
                out[key] = [name for name in value if name not in group]
            elif key == "dependentRequired" and isinstance(value, dict):
                out[key] = {k: [n for n in v if n not in group] if isinstance(v, list) else v for k, v in value.items()}
            elif key == "properties" and isinstance(value, dict):
                out[key] = {
                    name: self.shape(here + pointer(name), prop, frozenset())
                    for name, prop in value.items()
                    if not (self.remove and flagged(self.data, prop, self.flag))
                }
            elif key in _MAPS and isinstance(value, dict):
                out[key] = {k: self.shape(here + pointer(k), v, inner) for k, v in value.items()}
            elif key in _LISTS and isinstance(value, list):
                out[key] = [self.shape(here + pointer(i), v, inner) for i, v in enumerate(value)]
            elif key in _ONE and isinstance(value, dict):
                out[key] = self.shape(here, value, inner)
            elif key == "discriminator" and isinstance(value, dict):
                out[key] = self.discriminator(value, node)
            else:
                out[key] = copy.deepcopy(value)
        return out

    def discriminator(self, tagging: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
        """The mapping names the directed branches under the tags they had: its own tags and, for validation, each
        branch's component name (an implicit tag, as dialect.discriminated reads them), which the directed
        component's name would change. Types keep the mapping's own tags: openapi-typescript types the tag by them."""
        out = copy.deepcopy(tagging)
        mapping: dict[str, Any] = tagging["mapping"] if isinstance(tagging.get("mapping"), dict) else {}
        tags: dict[str, Any] = {}
        for tag, value in mapping.items():
            ref = value if not isinstance(value, str) or "/" in value else "#" + SCHEMAS + _escape(value)
            tags[tag] = self.ref(ref) if isinstance(ref, str) and self.ref(ref) != ref else value
        for branch in [*(node.get("oneOf") or []), *(node.get("anyOf") or [])] if self.served else []:
            ref = branch.get("$ref") if isinstance(branch, dict) else None
            target = _target(ref)
            if isinstance(ref, str) and target is not None and target.startswith(SCHEMAS) and self.ref(ref) != ref:
                tags.setdefault(_tokens(target)[-1], self.ref(ref))
        if tags != mapping:
            out["mapping"] = tags
        return out


def _directed(data: dict[str, Any], removes: dict[str, bool], served: bool) -> dict[str, Any]:
    """A copy of the document whose body schemas are directed; `removes[direction]`: whether flagged properties go."""
    found = list(sites(data))
    reach = {d: _Graph(data, FLAGS[d], _roots(data, found), None).reaching for d in (REQUEST, RESPONSE)}
    rewritten = frozenset(s.schema for s in found if s.schema in reach[s.direction])
    if not rewritten:
        return data  # no body carries a flagged property: every shape is the schema itself
    out = copy.deepcopy(data)
    components = (data.get("components") or {}).get("schemas") or {}
    taken = set(components)
    made: dict[str, Any] = {}
    for direction in (REQUEST, RESPONSE):
        directed = _Directed(data, direction, removes[direction], taken, found, rewritten, served)
        for ptr in sorted({s.schema for s in found if s.direction == direction and s.schema in rewritten}):
            shape = directed.site(ptr)
            parent, key = ptr.rsplit("/", 1)
            holder = _at(out, parent)
            if isinstance(holder, dict):
                holder[key.replace("~1", "/").replace("~0", "~")] = shape
        made |= directed.made
    if made:
        schemas = out.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(made)
    return out


def served(data: dict[str, Any]) -> dict[str, Any]:
    """The contract's served document: readOnly properties optional in request bodies, writeOnly ones gone from
    responses."""
    return _directed(data, {REQUEST: False, RESPONSE: True}, served=True)


def typed(data: dict[str, Any]) -> dict[str, Any]:
    """The document models and types are made from: no readOnly property in request bodies, no writeOnly one in
    responses."""
    return _directed(data, {REQUEST: True, RESPONSE: True}, served=False)


class _Planner:
    """Removal plans: for one place of a body, the properties to drop there and the plans of the places inside.

    A plan is `{"drop": [names], "properties": {name: plan}, "items": plan, "prefixItems": [plan or null],
    "additionalProperties": plan, "declared": [names]}` (each key only when it says something), a plan being its
    index in the list of plans. Where several schemas describe one place (allOf, anyOf, oneOf, if/then/else), a
    property is dropped when every one of them that declares it flags it. `additionalProperties` applies to the
    keys none of them declares (and is not followed past `patternProperties`, whose regexes the runtimes do not run).
    """

    def __init__(self, data: dict[str, Any], direction: str, roots: list[str]) -> None:
        self.data = data
        self.flag = FLAGS[direction]
        self.graph = _Graph(data, self.flag, roots, _PLAN_EDGES)
        self.plans: list[dict[str, Any]] = []
        self.index: dict[frozenset[str], int] = {}

    def merged(self, pointers: list[str]) -> frozenset[str]:
        """The schemas that describe one place, reached from `pointers` through `$ref` and the applicators; a bare
        reference says nothing of its own, so places that refer to one schema are one place."""
        found: set[str] = set()
        walked: set[str] = set()
        pending = list(pointers)
        while pending:
            ptr = pending.pop()
            node = _at(self.data, ptr)
            if ptr in walked or not isinstance(node, dict):
                continue
            walked.add(ptr)
            if set(node) != {"$ref"}:
                found.add(ptr)
            target = _target(node.get("$ref"))
            if target is not None:
                pending.append(target)
            for key in ("allOf", "anyOf", "oneOf"):
                members = node.get(key)
                if isinstance(members, list):
                    pending.extend(ptr + pointer(key, i) for i in range(len(members)))
            for key in ("then", "else"):
                if isinstance(node.get(key), dict):
                    pending.append(ptr + pointer(key))
            for name, value in (node.get("dependentSchemas") or {}).items():
                if isinstance(value, dict):
                    pending.append(ptr + pointer("dependentSchemas", name))
        return frozenset(found)

    def plan(self, pointers: list[str]) -> int | None:
        place = self.merged(pointers)
        if not any(p in self.graph.reaching for p in place):
            return None
        if place in self.index:
            return self.index[place]
        self.index[place] = len(self.plans)
        plan: dict[str, Any] = {}
        self.plans.append(plan)
        nodes = [(p, _at(self.data, p)) for p in sorted(place)]
        declared: dict[str, list[str]] = {}
        for ptr, node in nodes:
            properties = node.get("properties")
            for name in properties if isinstance(properties, dict) else {}:
                declared.setdefault(name, []).append(ptr + pointer("properties", name))
        drop = [n for n, ps in declared.items() if all(flagged(self.data, _at(self.data, p), self.flag) for p in ps)]
        properties = {}
        for name, ptrs in declared.items():
            if name not in drop and (inner := self.plan(ptrs)) is not None:
                properties[name] = inner
        items = self.plan([p + "/items" for p, n in nodes if isinstance(n.get("items"), dict)])
        width = max((len(n["prefixItems"]) for _, n in nodes if isinstance(n.get("prefixItems"), list)), default=0)
        prefix = [
            self.plan([p + pointer("prefixItems", i) for p, n in nodes if len(n.get("prefixItems") or []) > i])
            for i in range(width)
        ]
        extra = None
        if not any("patternProperties" in n for _, n in nodes):
            extra = self.plan(
                [p + "/additionalProperties" for p, n in nodes if isinstance(n.get("additionalProperties"), dict)]
            )
        if drop:
            plan["drop"] = drop
        if properties:
            plan["properties"] = properties
        if items is not None:
            plan["items"] = items
        if any(p is not None for p in prefix):
            plan["prefixItems"] = prefix
        if extra is not None:
            plan["additionalProperties"] = extra
            plan["declared"] = sorted(declared)
        return self.index[place]


def plans(data: dict[str, Any]) -> dict[str, Any] | None:
    """What the runtimes remove from request and response bodies, by operation, status and media type; None when
    the spec flags nothing that any body can carry."""
    found = list(sites(data))
    planners = {d: _Planner(data, d, _roots(data, found)) for d in (REQUEST, RESPONSE)}
    requests: dict[str, Any] = {}
    responses: dict[str, Any] = {}
    shared: list[dict[str, Any]] = []
    for site in found:
        planner = planners[site.direction]
        local = planner.plan([site.schema])
        if local is None:
            continue
        entry = (requests if site.direction == REQUEST else responses).setdefault(site.path, {})
        entry = entry.setdefault(site.method, {})
        if site.status is not None:
            entry = entry.setdefault(site.status, {})
        entry[site.media] = (site.direction, local)
    if not requests and not responses:
        return None
    # One list of plans: the response planner's indices come after the request planner's.
    offset = {REQUEST: 0, RESPONSE: len(planners[REQUEST].plans)}

    def renumber(node: Any) -> Any:
        if isinstance(node, tuple):
            direction, index = node
            return index + offset[direction]
        return {k: renumber(v) for k, v in node.items()}

    for direction in (REQUEST, RESPONSE):
        shift = offset[direction]
        for plan in planners[direction].plans:
            shared.append(_shifted(plan, shift))
    return {"requests": renumber(requests), "responses": renumber(responses), "plans": shared}


def _shifted(plan: dict[str, Any], shift: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in plan.items():
        if key in ("items", "additionalProperties"):
            out[key] = value + shift
        elif key == "properties":
            out[key] = {name: index + shift for name, index in value.items()}
        elif key == "prefixItems":
            out[key] = [None if index is None else index + shift for index in value]
        else:
            out[key] = value
    return out
