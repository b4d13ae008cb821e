/**
 * Every secret jit handles in this process is registered here, and every line that leaves
 * the process (errors, logs, audit entries) passes through redact(). Registering is cheap;
 * forgetting to register is the bug this guards against, so the patterns below also catch
 * secrets that were never registered (URI userinfo, SCRAM verifiers, password=… pairs).
 */
const secrets = new Set<string>();
const MASK = '***';

export function registerSecret(secret: string | undefined | null): void {
  if (!secret || secret.length < 4) return;
  secrets.add(secret);
  secrets.add(encodeURIComponent(secret));
}

const PATTERNS: Array<[RegExp, string]> = [
  // scheme://user:password@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, `$1:${MASK}@`],
  // client-computed verifiers and MySQL native hashes
  [/SCRAM-SHA-256\$[^\s'"]+/g, `SCRAM-SHA-256$${MASK}`],
  [/\*[0-9A-F]{40}\b/g, `*${MASK}`],
  // password=…, PGPASSWORD=… (libpq keyword strings, env dumps). Not `password: …`: in a policy
  // that names a source (`password: env:NAME`), and hints must be able to say so.
  [/\b((?:PG|MYSQL_)?PASSWORD|password|MYSQL_PWD)(\s*=\s*)("?)[^\s"',;]+\3/g, `$1$2$3${MASK}$3`],
  [/("(?:admin_?)?password"\s*:\s*")[^"]*"/gi, `$1${MASK}"`],
];

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  for (const [re, repl] of PATTERNS) out = out.replace(re, repl);
  return out;
}

/** For tests only. */
export function clearSecrets(): void {
  secrets.clear();
}
