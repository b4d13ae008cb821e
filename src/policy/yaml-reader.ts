import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node } from 'yaml';
import { usageError } from '../core/errors.js';

/** A node of the policy, the YAML path it sits at and the source offset errors about it point to. */
export interface Spot {
  node: Node | null;
  /** `databases.prod-db.roles.readonly.grants[0].tables`; empty at the root. */
  path: string;
  /** Offset of the node, or of its key when the value is empty. */
  at: number;
  /** Offset of the key this node is the value of: "is required" errors point at the parent key. */
  keyAt?: number;
}

/** One `key: value` entry of a mapping. */
export interface Entry {
  name: string;
  keyAt: number;
  spot: Spot;
}

// The yaml library's own guard against billion-laughs documents: expanding aliases more than this
// (counted as the library does) is refused before anything walks the tree.
const MAX_ALIAS_COUNT = 100;

/** Reads a parsed policy document; every failure is a one-line usage error `file:line:col: path: message`. */
export class PolicyReader {
  private readonly aliases = new Map<Node, Node | undefined>();

  private constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly display: string,
  ) {
    // One pass resolving every alias to the last anchor before it, as YAML defines; resolving
    // each alias with Alias.resolve() would re-walk the whole document every time.
    const anchors = new Map<string, Node>();
    visit(doc, {
      Node: (_k, n) => {
        if (isAlias(n)) this.aliases.set(n, anchors.get(n.source));
        else if (n.anchor) anchors.set(n.anchor, n);
      },
    });
  }

  /** Parse `text`; refuses syntax errors, duplicate keys, alias bombs and an empty document. */
  static parse(text: string, display: string): { reader: PolicyReader; root: Spot } {
    const lines = new LineCounter();
    // uniqueKeys: false, then one pass with a set per mapping: the library's own check compares
    // each key with every earlier key of its mapping, quadratic in a mapping of 10 000 roles.
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, keepSourceTokens: true });
    const reader = new PolicyReader(doc, lines, display);
    const err = doc.errors[0];
    const dup = firstDuplicateKey(doc);
    if (dup !== undefined && (!err || dup <= err.pos[0])) reader.fail(dup, `duplicate key ${JSON.stringify(keyAt(text, dup))}`);
    if (err) reader.fail(err.pos[0], err.message.split('\n')[0]);
    try {
      doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const all = [...reader.aliases];
      const first = (all.find(([, target]) => target === undefined) ?? all[0])?.[0];
      const bomb = e instanceof Error && e.message.startsWith('Excessive alias');
      reader.fail(
        first?.range?.[0] ?? 0,
        bomb ? 'too many alias expansions (a YAML alias bomb?)' : `bad alias: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const contents = doc.contents;
    if (contents === null || (isScalar(contents) && contents.value === null)) {
      return reader.fail(0, 'the policy is empty', "start from the annotated file 'jit init' writes");
    }
    return { reader, root: { node: contents, path: '', at: contents.range[0] } };
  }

  fail(where: Spot | number, message: string, hint?: string): never {
    const offset = typeof where === 'number' ? where : where.at;
    const path = typeof where === 'number' ? '' : where.path;
    const { line, col } = this.lines.linePos(offset);
    throw usageError(`${this.display}:${line}:${col}: ${path ? `${path}: ` : ''}${message}`, hint);
  }

  /** "is required": points at the key of the mapping that lacks `key`. */
  missing(parent: Spot, key: string, hint?: string): never {
    this.fail({ ...parent, at: parent.keyAt ?? parent.at }, `"${key}" is required`, hint);
  }

  /** True for a missing value (`key:` with nothing after it). */
  isEmpty(s: Spot): boolean {
    return this.node(s) === null || this.scalar(s) === null;
  }

  node(s: Spot): Node | null {
    return s.node && isAlias(s.node) ? (this.aliases.get(s.node) ?? null) : s.node;
  }

  /** The entries of a mapping, in order. */
  entries(s: Spot): Entry[] {
    const n = this.node(s);
    if (!isMap(n)) this.fail(s, 'must be a mapping');
    return n.items.map((pair) => {
      const key = pair.key as Node | null;
      const k = key && isAlias(key) ? this.aliases.get(key) : key;
      const keyAt = key?.range?.[0] ?? s.at;
      if (!isScalar(k) || k.value === null || typeof k.value === 'object') this.fail({ ...s, at: keyAt }, 'keys must be plain names');
      const name = typeof k.value === 'string' ? k.value : (k.source ?? String(k.value));
      const value = pair.value as Node | null;
      const empty = !value || (isScalar(value) && value.value === null);
      const path = s.path ? `${s.path}.${name}` : name;
      return { name, keyAt, spot: { node: value, path, at: empty ? keyAt : (value.range?.[0] ?? keyAt), keyAt } };
    });
  }

  /** A mapping with a fixed set of keys; an unknown key is refused and the allowed ones listed. */
  fields(s: Spot, allowed: readonly string[]): Map<string, Spot> {
    const out = new Map<string, Spot>();
    for (const e of this.entries(s)) {
      if (!allowed.includes(e.name)) {
        // yaml 1.2 (the library's default) has no merge keys, so `<<: *base` arrives as a plain key.
        const hint = e.name === '<<' ? 'merge keys are not supported; share whole lists or mappings with &anchor and *alias' : didYouMean(e.name, allowed);
        this.fail({ ...s, at: e.keyAt }, `unknown key "${e.name}"; allowed: ${allowed.join(', ')}`, hint);
      }
      out.set(e.name, e.spot);
    }
    return out;
  }

  /** Items of a list. With `indexed`, each item's path gets `[i]`; else errors name the list itself. */
  items(s: Spot, indexed: boolean): Spot[] {
    const n = this.node(s);
    if (!isSeq(n)) this.fail(s, 'must be a list');
    return n.items.map((item, i) => {
      const node = item as Node | null;
      return { node, path: indexed ? `${s.path}[${i}]` : s.path, at: node?.range?.[0] ?? s.at };
    });
  }

  /** The scalar value (string, number, boolean, null) or undefined for a collection. */
  scalar(s: Spot): unknown {
    const n = this.node(s);
    return isScalar(n) ? n.value : undefined;
  }

  string(s: Spot, what = 'a string'): string {
    const v = this.scalar(s);
    if (typeof v !== 'string' || v.trim() === '') this.fail(s, `must be ${what}`);
    return v.trim();
  }
}

/** Offset of the first key that repeats an earlier key of the same mapping (compared by value, as YAML does). */
function firstDuplicateKey(doc: Document.Parsed): number | undefined {
  let first: number | undefined;
  visit(doc, {
    Map: (_k, map) => {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key as Node | null;
        const value = isScalar(key) ? key.value : key;
        if (seen.has(value)) {
          const at = key?.range?.[0];
          if (at !== undefined && (first === undefined || at < first)) first = at;
          break;
        }
        seen.add(value);
      }
    },
  });
  return first;
}

// The library points at the first character of a duplicate key; show the whole key.
function keyAt(text: string, offset: number): string {
  const m = /^("[^"\n]*"|'[^'\n]*'|[^:\n]*)/.exec(text.slice(offset));
  return (m?.[1] ?? '').trim().replace(/^["']|["']$/g, '');
}

function didYouMean(name: string, allowed: readonly string[]): string | undefined {
  const close = allowed.find((a) => distance(a, name.toLowerCase()) <= 2);
  return close ? `did you mean "${close}"?` : undefined;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
