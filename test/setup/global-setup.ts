import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * End-to-end tests run the built binary (`bin/jit.js` → `dist/`). `npm test` builds first
 * (pretest); this only refuses to start against a missing build.
 */
export default function setup(): void {
  const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
  if (!existsSync(main)) {
    throw new Error('dist/main.js is missing: run `npm run build` (npm test does it for you)');
  }
}
