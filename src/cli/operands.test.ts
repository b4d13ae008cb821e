import { describe, expect, it } from 'vitest';
import { splitAtDashDash } from './operands.js';

describe('splitAtDashDash', () => {
  it('exec: the database is optional before --, everything after is the child', () => {
    expect(splitAtDashDash('db', ['psql', '-c', 'x'], ['psql', '-c', 'x'], 'u', 'child')).toEqual({ database: 'db', args: ['psql', '-c', 'x'] });
    expect(splitAtDashDash('psql', ['-c'], ['psql', '-c'], 'u', 'child')).toEqual({ args: ['psql', '-c'] });
    expect(splitAtDashDash('db', ['true'], undefined, 'u', 'child')).toEqual({ database: 'db', args: ['true'] });
    expect(() => splitAtDashDash('a', ['b', 'true'], ['true'], 'u', 'child')).toThrow(/unexpected argument "b" before --/);
  });
  it('connect: arguments only after --', () => {
    expect(splitAtDashDash('db', ['-c', 'x'], ['-c', 'x'], 'u', 'refuse')).toEqual({ database: 'db', args: ['-c', 'x'] });
    expect(splitAtDashDash('db', [], undefined, 'u', 'refuse')).toEqual({ database: 'db', args: [] });
    expect(() => splitAtDashDash('db', ['extra'], undefined, 'u', 'refuse')).toThrow(/unexpected argument "extra"/);
  });
});
