// The JSON Schema of codistill.yaml (media/codistill.schema.json) put to work for the editor when
// the YAML extension is not installed: where the cursor is in the document, which keys and values
// may go there, and what a key means. Pure (no vscode), so the unit tests drive it directly; the
// YAML extension reads the same schema through package.json's yamlValidation.
import { isMap, isScalar, isSeq, parseDocument, visit, type Document } from "yaml";
import schemaJson from "../../../media/codistill.schema.json" with { type: "json" };

/** The part of JSON Schema draft-07 that media/codistill.schema.json uses. */
export interface SchemaNode {
  $schema?: string;
  $ref?: string;
  title?: string;
  type?: string | string[];
  description?: string;
  markdownDescription?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: boolean | SchemaNode;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  anyOf?: SchemaNode[];
  if?: SchemaNode;
  then?: SchemaNode;
  else?: SchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  minLength?: number;
  pattern?: string;
  definitions?: Record<string, SchemaNode>;
}

export const EXPERIMENT_SCHEMA: SchemaNode = schemaJson as SchemaNode;

/** Keys and list indexes from the document's root: ["training", "curriculum", "beta_end"], ["cots", 0, "name"]. */
export type KeyPath = (string | number)[];

export interface CursorLocation {
  /** On a key: the path of that key. On a value: the path of the value. */
  path: KeyPath;
  on: "key" | "value";
  /** The other keys of the mapping the key is in (on a key), or the keys of the mapping under the cursor (on a value). */
  siblings: string[];
  /** Offsets of the key or value under the cursor. */
  range: [number, number];
}

export interface CompletionEntry {
  label: string;
  kind: "key" | "value";
  insertText: string;
  /** The schema type, "integer" or "list of string". */
  detail?: string;
  /** Markdown. */
  documentation?: string;
  /** The offsets the entry replaces: the word being typed. */
  replace: [number, number];
}

export interface HoverInfo {
  markdown: string;
  range: [number, number];
}

/** The schema of the value at `path`, following properties, items, additionalProperties, anyOf and $ref. */
export function schemaAt(path: KeyPath, root: SchemaNode = EXPERIMENT_SCHEMA): SchemaNode | undefined {
  let node: SchemaNode | undefined = resolveRef(root, root);
  for (const segment of path) {
    if (!node) return undefined;
    node = childSchema(node, segment, root);
  }
  return node;
}

function childSchema(node: SchemaNode, segment: string | number, root: SchemaNode): SchemaNode | undefined {
  for (const variant of [node, ...(node.anyOf ?? []).map((v) => resolveRef(v, root))]) {
    const child =
      typeof segment === "number"
        ? variant.items
        : (variant.properties?.[segment] ?? (typeof variant.additionalProperties === "object" ? variant.additionalProperties : undefined));
    if (child) return resolveRef(child, root);
  }
  return undefined;
}

/** The node with its $ref's target merged in; the referring node's own keywords (its description) win, as in VS Code's JSON language service. */
function resolveRef(node: SchemaNode, root: SchemaNode): SchemaNode {
  if (!node.$ref) return node;
  const { $ref, ...own } = node;
  const target = $ref.startsWith("#/") ? $ref.slice(2).split("/").reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], root) : undefined;
  if (!target || typeof target !== "object") throw new Error(`codistill.schema.json: $ref "${$ref}" names no definition of the schema`);
  return { ...resolveRef(target as SchemaNode, root), ...own };
}

/** The keywords validateValue checks: a schema that uses another one needs validateValue taught it first. */
export const VALIDATED_KEYWORDS = [
  "$ref",
  "type",
  "enum",
  "const",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "pattern",
  "minItems",
  "items",
  "properties",
  "required",
  "additionalProperties",
  "anyOf",
  "if",
  "then",
  "else",
] as const;
/** Keywords that say something about a value without constraining it. */
export const ANNOTATION_KEYWORDS = ["$schema", "title", "description", "markdownDescription", "default", "definitions"] as const;

export interface SchemaProblem {
  /** Relative to the value validated: ["curriculum", "schedule"] for the training section's. */
  path: KeyPath;
  /** Phrased as parseExperimentConfig's: "expected a number >= 0", "unknown setting; expected one of a, b". */
  reason: string;
}

/**
 * The problems of a JSON value (as YAML's toJS gives it) against a schema node, as Ajv finds them
 * but one per value: a value of the wrong type, out of range or not in the enum is one problem
 * at its path; an unknown key is one at the key's path, a missing one at the path it should have.
 * anyOf that no variant matches is one problem at the value's path, naming the variants.
 */
export function validateValue(value: unknown, node: SchemaNode, root: SchemaNode = EXPERIMENT_SCHEMA): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  check(value, node, root, [], problems);
  return problems;
}

function check(value: unknown, raw: SchemaNode, root: SchemaNode, path: KeyPath, out: SchemaProblem[]): void {
  const node = resolveRef(raw, root);
  const expected = () => out.push({ path, reason: `expected ${describe(node, root)}` });
  if (node.type !== undefined && !types(node).some((t) => hasType(value, t))) return void expected();
  if ("const" in node && !sameValue(value, node.const)) return void expected();
  if (node.enum && !node.enum.some((allowed) => sameValue(value, allowed))) return void expected();
  if (typeof value === "number" && !inRange(node, value)) return void expected();
  if (typeof value === "string") {
    if (node.minLength !== undefined && [...value].length < node.minLength) return void expected();
    if (node.pattern !== undefined && !new RegExp(node.pattern, "u").test(value)) return void expected();
  }
  if (Array.isArray(value)) {
    if (node.minItems !== undefined && value.length < node.minItems) expected();
    if (node.items) value.forEach((item, i) => check(item, node.items!, root, [...path, i], out));
  }
  if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const property = node.properties?.[key];
      if (property) check(child, property, root, [...path, key], out);
      else if (node.additionalProperties === false) out.push({ path: [...path, key], reason: `unknown setting; expected one of ${Object.keys(node.properties ?? {}).join(", ")}` });
      else if (typeof node.additionalProperties === "object") check(child, node.additionalProperties, root, [...path, key], out);
    }
    for (const key of node.required ?? []) if (!(key in value)) out.push({ path: [...path, key], reason: "missing" });
  }
  if (node.anyOf && !node.anyOf.some((variant) => validateValue(value, variant, root).length === 0)) expected();
  if (node.if) {
    const branch = validateValue(value, node.if, root).length === 0 ? node.then : node.else;
    if (branch) check(value, branch, root, path, out);
  }
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "boolean":
      return typeof value === "boolean";
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "string":
      return typeof value === "string";
    case "array":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    default:
      throw new Error(`codistill.schema.json: unknown type "${type}"`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function inRange(node: SchemaNode, n: number): boolean {
  return (
    (node.minimum === undefined || n >= node.minimum) &&
    (node.exclusiveMinimum === undefined || n > node.exclusiveMinimum) &&
    (node.maximum === undefined || n <= node.maximum) &&
    (node.exclusiveMaximum === undefined || n < node.exclusiveMaximum)
  );
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameValue(a[k], b[k]));
  }
  return false;
}

/** What a node accepts, after "expected": "an integer >= 1 or null", "one of linear, cosine, step". */
function describe(raw: SchemaNode, root: SchemaNode): string {
  const node = resolveRef(raw, root);
  if ("const" in node) return show(node.const);
  if (node.enum) return node.enum.length === 1 ? show(node.enum[0]) : `one of ${node.enum.map(show).join(", ")}`;
  if (node.anyOf) return node.anyOf.map((variant) => describe(variant, root)).join(" or ");
  const kinds = types(node);
  const phrases = kinds.filter((t) => t !== "null").map((t) => describeType(node, t, root));
  if (kinds.includes("null")) phrases.push("null");
  return phrases.join(" or ") || "a valid value";
}

function describeType(node: SchemaNode, type: string, root: SchemaNode): string {
  switch (type) {
    case "integer":
    case "number":
      return [type === "integer" ? "an integer" : "a number", bounds(node)].filter(Boolean).join(" ");
    case "string": {
      const length = node.minLength === undefined ? "a string" : node.minLength === 1 ? "a non-empty string" : `a string of at least ${node.minLength} characters`;
      return node.pattern === undefined ? length : `${length} matching ${node.pattern}`;
    }
    case "boolean":
      return "true or false";
    case "array": {
      const list = !node.minItems ? "a list" : node.minItems === 1 ? "a non-empty list" : `a list of at least ${node.minItems} items`;
      return `${list}${node.items ? `, each ${describe(node.items, root)}` : ""}`;
    }
    case "object":
      return node.properties ? `a mapping (${Object.keys(node.properties).join(", ")})` : "a mapping";
    default:
      return type;
  }
}

/** ">= 0 and < 1", "> 0". */
function bounds(node: SchemaNode): string {
  const lower = node.exclusiveMinimum !== undefined && (node.minimum === undefined || node.exclusiveMinimum >= node.minimum) ? `> ${node.exclusiveMinimum}` : node.minimum !== undefined ? `>= ${node.minimum}` : "";
  const upper = node.exclusiveMaximum !== undefined && (node.maximum === undefined || node.exclusiveMaximum <= node.maximum) ? `< ${node.exclusiveMaximum}` : node.maximum !== undefined ? `<= ${node.maximum}` : "";
  return [lower, upper].filter(Boolean).join(" and ");
}

function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Where `offset` falls in the document: on which key or value, by path. Undefined outside every node. */
export function locateCursor(text: string, offset: number): CursorLocation | undefined {
  return locateIn(parseDocument(text), offset);
}

function locateIn(doc: Document, offset: number): CursorLocation | undefined {
  return locateNode(doc.contents, offset, []);
}

function locateNode(node: unknown, offset: number, path: KeyPath): CursorLocation | undefined {
  if (isMap(node)) {
    const keys = node.items.map((pair) => keyName(pair.key));
    for (const [i, pair] of node.items.entries()) {
      const key = keys[i]!;
      if (covers(pair.key, offset)) return { path: [...path, key], on: "key", siblings: keys.filter((k, j) => j !== i && k !== key), range: rangeOf(pair.key)! };
      if (covers(pair.value, offset)) return locateNode(pair.value, offset, [...path, key]);
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) if (covers(item, offset)) return locateNode(item, offset, [...path, i]);
  }
  const range = rangeOf(node);
  if (!range || !covers(node, offset)) return undefined;
  return { path, on: "value", siblings: isMap(node) ? node.items.map((pair) => keyName(pair.key)) : [], range };
}

function keyName(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function rangeOf(node: unknown): [number, number] | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? [range[0], range[1]] : undefined;
}

/** The end is included: a cursor just after a word is still on it. */
function covers(node: unknown, offset: number): boolean {
  const range = rangeOf(node);
  return range !== undefined && range[0] <= offset && offset <= range[1];
}

// Stands in for the word at the cursor, so that a half-typed line parses as the key or value it
// is becoming; the path where it lands says what may go there.
const PLACEHOLDER = "codistill_cursor_";
const WORD_CHAR = /[\w.+\-~/]/;

function wordAround(text: string, offset: number): [number, number] {
  let start = offset;
  let end = offset;
  while (start > 0 && WORD_CHAR.test(text[start - 1]!)) start--;
  while (end < text.length && WORD_CHAR.test(text[end]!)) end++;
  return [start, end];
}

/** The completions at `offset`: the keys the mapping there may still take, or the values of an enum (or true/false). */
export function completionsAt(text: string, offset: number, root: SchemaNode = EXPERIMENT_SCHEMA): CompletionEntry[] {
  const replace = wordAround(text, offset);
  // `key:|` needs a space, or the placeholder would make one scalar "key:codistill_cursor_" with it.
  const glue = text[replace[0] - 1] === ":" ? " " : "";
  const probe = text.slice(0, replace[0]) + glue + PLACEHOLDER + text.slice(replace[1]);
  const at = locateIn(parseDocument(probe), replace[0] + glue.length) ?? { path: [], on: "value", siblings: [], range: replace };
  if (at.on === "key") return keyCompletions(schemaAt(at.path.slice(0, -1), root), at.siblings, replace, root);
  const schema = schemaAt(at.path, root);
  if (!schema) return [];
  if (schema.properties && startsItsLine(text, replace[0])) return keyCompletions(schema, [], replace, root);
  return valueCompletions(schema, replace);
}

/** Only whitespace and list dashes before `offset` on its line: a new key may start there. */
function startsItsLine(text: string, offset: number): boolean {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  return /^[\s-]*$/.test(text.slice(lineStart, offset));
}

function keyCompletions(mapping: SchemaNode | undefined, present: string[], replace: [number, number], root: SchemaNode): CompletionEntry[] {
  const taken = new Set(present);
  return Object.entries(mapping?.properties ?? {})
    .filter(([key]) => !taken.has(key))
    .map(([key, raw]) => {
      const schema = resolveRef(raw, root);
      return { label: key, kind: "key", insertText: `${key}: `, detail: typeName(schema, root), documentation: documentationOf(schema), replace };
    });
}

function valueCompletions(schema: SchemaNode, replace: [number, number]): CompletionEntry[] {
  const values = schema.enum ?? (types(schema).includes("boolean") ? [true, false] : []);
  return values
    .filter((value) => value !== null)
    .map((value) => ({ label: String(value), kind: "value", insertText: String(value), documentation: documentationOf(schema), replace }));
}

/** The description, type, default and allowed values of the key under the cursor. */
export function hoverAt(text: string, offset: number, root: SchemaNode = EXPERIMENT_SCHEMA): HoverInfo | undefined {
  const at = locateCursor(text, offset);
  if (!at || at.on !== "key") return undefined;
  const schema = schemaAt(at.path, root);
  if (!schema) return undefined;
  const key = at.path[at.path.length - 1]!;
  return { markdown: [`**${key}**`, documentationOf(schema), facts(schema, root)].filter(Boolean).join("\n\n"), range: at.range };
}

function documentationOf(schema: SchemaNode): string {
  return schema.markdownDescription ?? schema.description ?? "";
}

/** "`number` · default `0.5` · one of `linear`, `cosine`, `step`". */
function facts(schema: SchemaNode, root: SchemaNode): string {
  const parts = [`\`${typeName(schema, root)}\``];
  if (schema.default !== undefined) parts.push(`default \`${JSON.stringify(schema.default)}\``);
  const allowed = schema.enum ?? schema.items?.enum;
  if (allowed) parts.push(`${schema.enum ? "one of" : "each one of"} ${allowed.map((v) => `\`${String(v)}\``).join(", ")}`);
  return parts.join(" · ");
}

function types(schema: SchemaNode): string[] {
  return schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
}

/** "integer", "list of string", "string or list of string": null is left out, as an unset key. */
export function typeName(schema: SchemaNode, root: SchemaNode = EXPERIMENT_SCHEMA): string {
  const variants = schema.anyOf ? schema.anyOf.map((v) => typeName(resolveRef(v, root), root)) : types(schema).filter((t) => t !== "null").map((t) => (t === "array" && schema.items ? `list of ${typeName(resolveRef(schema.items, root), root)}` : t === "object" ? "mapping" : t));
  return variants.join(" or ") || "any";
}

/**
 * The offsets to mark for a problem at 1-based `line`:`col` (parseExperimentConfig's `where`):
 * the key or value that starts there, cut at the end of its line so a whole section is not
 * underlined; the rest of the line where no node starts there.
 */
export function problemRange(text: string, line: number, col: number): [number, number] {
  const start = offsetOf(text, line, col);
  const lineEnd = text.indexOf("\n", start) === -1 ? text.length : text.indexOf("\n", start);
  let end: number | undefined;
  visit(parseDocument(text), (_key, node) => {
    const range = rangeOf(node);
    if (range && range[0] === start && range[1] > start) end = Math.min(end ?? Infinity, range[1]);
  });
  const lineRest = start + text.slice(start, lineEnd).trimEnd().length;
  return [start, Math.max(start + 1, Math.min(end ?? lineRest, lineEnd))];
}

function offsetOf(text: string, line: number, col: number): number {
  let offset = 0;
  for (let n = 1; n < line; n++) {
    const next = text.indexOf("\n", offset);
    if (next === -1) return text.length;
    offset = next + 1;
  }
  return Math.min(offset + col - 1, text.length);
}
