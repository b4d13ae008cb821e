import type { Deps } from '../deps.js';
import { parseDuration } from '../../core/duration.js';
import { printData, printJson, notice } from '../output.js';
import { quoteText } from '../../core/terminal-text.js';

/** `jit audit [--since D] [--json]`: the local audit trail. */
export async function run(_args: unknown[], flags: { since?: string }, deps: Deps): Promise<number> {
  const since = flags.since ? deps.now() - parseDuration(flags.since, '--since') : -Infinity;
  const entries = (await deps.audit.read()).filter((e) => Date.parse(e.time) >= since);
  if (deps.io.json) {
    printJson(deps.io, entries);
    return 0;
  }
  if (entries.length === 0) {
    notice(deps.io, 'no audit entries');
    return 0;
  }
  const lines = entries.map((e) => {
    const bits = [e.time, e.event.padEnd(13), e.login ?? '', e.database ? `db=${e.database}` : '', e.role ? `role=${e.role}` : ''];
    if (e.requester) bits.push(`by=${e.requester}${e.requester_host ? `@${e.requester_host}` : ''}`);
    if (e.ttl) bits.push(`ttl=${e.ttl}`);
    if (e.cause) bits.push(`cause=${e.cause}${e.already_gone ? ' (already gone)' : ''}`);
    if (e.actor && e.actor !== `${e.requester}@${e.requester_host}`) bits.push(`actor=${e.actor}`);
    if (e.reason) bits.push(`reason=${quoteText(e.reason)}`);
    if (e.error) bits.push(`error=${quoteText(e.error)}`);
    return bits.filter(Boolean).join('  ');
  });
  printData(deps.io, lines.join('\n'));
  return 0;
}
