import type { EngineName } from '../policy/types.js';
import type { Engine } from './engine.js';
import { JitError } from '../core/errors.js';

/** Loads an engine lazily so commands that never touch a server never load a driver. */
export async function loadEngine(name: EngineName): Promise<Engine> {
  switch (name) {
    case 'postgres':
      return (await import('./postgres/postgres-engine.js')).postgresEngine;
    case 'mysql':
      throw new JitError('the mysql engine is not available in this version of jit', {
        hint: 'use engine: postgres, or upgrade jit',
        exitCode: 2,
      });
  }
}
