import { LEDGER_SCHEMA } from './mysql-sql.js';

/**
 * What a login holds beyond the policy's own grants, read from SHOW GRANTS (as the login: its
 * own lines, its default role's, nested roles' and PUBLIC's; as the admin: FOR PUBLIC). A policy
 * never grants on `jit` or `*.*`, but a `member_of` role or PUBLIC may: a login that can write
 * jit.leases or drop its event deletes its own row, and from then on no revoke, reap or event
 * touches it ("no row: not jit's"). A grant option lets it hand privileges to accounts that
 * outlive it. Each problem is one phrase such as `DELETE, EVENT ON jit.*`.
 */
export function grantProblems(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const g = parseGrantLine(line);
    if (!g) continue;
    if (g.adminOption) out.push(`${g.privileges} WITH ADMIN OPTION`);
    if (g.grantOption) out.push(`${g.privileges} ON ${g.target} WITH GRANT OPTION`);
    if (!g.on) continue;
    if (/^PROXY$/i.test(g.privileges)) {
      out.push(`PROXY ON ${g.on}`);
      continue;
    }
    if (!reachesLedger(g.on)) continue;
    const risky = splitPrivileges(g.privileges).filter((p) => !HARMLESS.has(p));
    if (risky.length > 0) out.push(`${risky.join(', ')} ON ${g.target}`);
  }
  return [...new Set(out)];
}

/** On `*.*` or the ledger, these neither change the ledger nor act on other sessions or accounts. */
const HARMLESS = new Set(['USAGE', 'SELECT', 'SHOW VIEW', 'REFERENCES', 'SHOW DATABASES']);

interface GrantLine {
  /** `SELECT, INSERT (`a`)` or, for a role grant, the role. */
  privileges: string;
  /** The raw target after ON (`*.*`, `` `jit`.* ``, `` `jit`.`leases` ``); absent for a role grant. */
  on?: string;
  /** The target for messages: `jit.*`. */
  target: string;
  grantOption: boolean;
  adminOption: boolean;
}

/** Split `GRANT <privs> ON <target> TO <grantee> [WITH …]` at keywords outside quotes. */
export function parseGrantLine(line: string): GrantLine | null {
  if (!/^GRANT\s/i.test(line)) return null;
  const body = line.slice(6);
  const on = keywordAt(body, ' ON ');
  const to = keywordAt(body, ' TO ', on < 0 ? 0 : on + 4);
  if (to < 0) return null;
  const tail = unquoted(body.slice(to + 4)).toUpperCase();
  const privileges = (on < 0 ? body.slice(0, to) : body.slice(0, on)).trim();
  const target = on < 0 ? undefined : body.slice(on + 4, to).trim();
  return {
    privileges,
    ...(target !== undefined ? { on: target } : {}),
    target: target === undefined ? '' : shownTarget(target),
    grantOption: /\bWITH\b.*\bGRANT OPTION\b/.test(tail),
    adminOption: /\bWITH ADMIN OPTION\b/.test(tail),
  };
}

/** Index of `kw` (case-insensitive) outside backtick, single and double quotes, from `from`. */
function keywordAt(text: string, kw: string, from = 0): number {
  const masked = unquoted(text).toUpperCase();
  return masked.indexOf(kw, from);
}

/** The text with every quoted span's content replaced by `x`, lengths kept (so indexes match). */
function unquoted(text: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\' && quote !== '`') {
        out += 'xx';
        i++;
        continue;
      }
      if (c === quote) {
        if (text[i + 1] === quote) {
          out += 'xx';
          i++;
          continue;
        }
        quote = null;
        out += c;
        continue;
      }
      out += 'x';
      continue;
    }
    if (c === '`' || c === "'" || c === '"') quote = c;
    out += c;
  }
  return out;
}

/** `PROCEDURE `db`.`p`` / `` `db`.* `` / `*.*` → the schema part (unquoted) and whether it is a pattern. */
function targetSchema(target: string): { schema: string; pattern: boolean } | 'global' | null {
  const t = target.replace(/^(PROCEDURE|FUNCTION|PACKAGE BODY|PACKAGE|TABLE)\s+/i, '');
  if (t === '*.*') return 'global';
  const m = /^`((?:[^`]|``)*)`\.(.*)$/.exec(t);
  if (!m) return t === '*' ? null : { schema: t.split('.')[0] ?? t, pattern: false };
  return { schema: m[1]!.replace(/``/g, '`'), pattern: m[2] === '*' };
}

/**
 * Whether a grant on `target` covers the ledger schema. A schema-level grant's name is a LIKE
 * pattern (`ji_`.* and `%`.* cover `jit`); case is ignored, as with lower_case_table_names.
 */
export function reachesLedger(target: string): boolean {
  const s = targetSchema(target);
  if (s === 'global') return true;
  if (!s) return false;
  if (!s.pattern) return s.schema.toLowerCase() === LEDGER_SCHEMA;
  return likeMatches(s.schema, LEDGER_SCHEMA);
}

function likeMatches(pattern: string, value: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, 'is').test(value);
}

const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** `SELECT, INSERT (`a`, `b`), DELETE` → ['SELECT', 'INSERT', 'DELETE'] (column lists dropped). */
function splitPrivileges(privileges: string): string[] {
  const masked = unquoted(privileges);
  let depth = 0;
  let cur = '';
  const out: string[] = [];
  for (let i = 0; i < privileges.length; i++) {
    const c = masked[i]!;
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    if (depth === 0 && c !== ')') cur += privileges[i];
  }
  out.push(cur);
  return out.map((p) => p.trim().replace(/\s+/g, ' ').toUpperCase()).filter(Boolean);
}

function shownTarget(target: string): string {
  return target.replace(/`((?:[^`]|``)*)`/g, (_m, n: string) => n.replace(/``/g, '`'));
}
