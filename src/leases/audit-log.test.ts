import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from './audit-log.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-audit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('audit.jsonl written with a hostile reason', () => {
  it('holds no raw control, C1 or bidi character, and reads back the original text', async () => {
    const reason = 'fix\x1b[2J\x1b]0;owned\x07\r all clear \u202e\u2066x\u2069 \x85\x7f';
    const log = new AuditLog(dir);
    await log.append({ event: 'mint', reason });
    const raw = await readFile(log.file, 'utf8');
    expect(raw.trimEnd()).not.toMatch(/[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
    expect(raw).toContain('\\u202e');
    expect((await log.read())[0]?.reason).toBe(reason);
  });
});
