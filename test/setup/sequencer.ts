/**
 * File order for a run whose files share one server per engine (test/helpers/servers.ts). A file
 * with an exclusive scope has a server to itself, so nothing else that needs that server can run
 * beside it, but files that need no server can. Workers take files in this order, so: each
 * exclusive file is followed by enough server-less files to keep the other worker busy while it
 * runs, then come the files that share the servers (longest first, as vitest would), then the
 * server-less files that are left, to even out the end.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

type Kind = 'exclusive' | 'shared' | 'none';

function kindOf(file: string): Kind {
  const text = readFileSync(file, 'utf8');
  if (/exclusive: true|onServer\(true\)/.test(text)) return 'exclusive';
  return /use(Postgres|Scope|Mariadb|PgCron)\(/.test(text) ? 'shared' : 'none';
}

export default class ServerAwareSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const duration = (f: TestSpecification) =>
      this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(this.ctx.config.root, f.moduleId)}`)?.duration ?? 1_000;
    const by: Record<Kind, TestSpecification[]> = { exclusive: [], shared: [], none: [] };
    for (const f of sorted) by[kindOf(f.moduleId)].push(f);
    const order: TestSpecification[] = [];
    for (const x of by.exclusive) {
      order.push(x);
      // Roughly as much server-less work as this file takes (its cached time includes waits).
      for (let filled = 0; filled < duration(x) / 2 && by.none.length > 0; ) {
        const n = by.none.shift()!;
        order.push(n);
        filled += duration(n);
      }
    }
    return [...order, ...by.shared, ...by.none];
  }
}
