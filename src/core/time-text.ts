/** How long until (or since) an instant: `in 9m59s`, `in 1h05m`, `12s ago`. */
export function relative(targetIso: string, nowMs: number): string {
  const d = Date.parse(targetIso) - nowMs;
  const s = Math.round(Math.abs(d) / 1000);
  const txt = s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
  return d >= 0 ? `in ${txt}` : `${txt} ago`;
}

const two = (n: number) => String(n).padStart(2, '0');

/**
 * An expiry as people read it, the same in every notice: the local wall-clock time (with the
 * date when it is not today) and the time left, `until 16:10:14 (in 10m00s)`. `expiresIso` is
 * on the server's clock; `serverNowMs` is the server's now and `localNowMs` this machine's, so
 * the wall-clock time shown is the local moment it happens.
 */
export function untilText(expiresIso: string, serverNowMs: number, localNowMs: number): string {
  const at = new Date(localNowMs + (Date.parse(expiresIso) - serverNowMs));
  const today = new Date(localNowMs);
  const time = `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  const sameDay = at.getFullYear() === today.getFullYear() && at.getMonth() === today.getMonth() && at.getDate() === today.getDate();
  const when = sameDay ? time : `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${time}`;
  return `until ${when} (${relative(expiresIso, serverNowMs)})`;
}
