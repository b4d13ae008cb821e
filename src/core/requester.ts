import { hostname, userInfo } from 'node:os';

/** Who is asking: recorded in the login name, the server marker and the audit trail. */
export interface Requester {
  user: string;
  host: string;
}

/** $JIT_REQUESTER, else the OS user name, and this machine's host name. */
export function currentRequester(env: NodeJS.ProcessEnv): Requester {
  let user = env.JIT_REQUESTER || '';
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = env.USER || env.USERNAME || 'unknown';
    }
  }
  return { user, host: hostname() };
}
