import type { EngineName } from '../policy/types.js';
import type { Engine } from './engine.js';
import type { EngineProfile } from './profile.js';
import { postgresProfile } from './postgres/postgres-profile.js';
import { mysqlProfile } from './mysql/mysql-profile.js';

/**
 * The one place that maps an engine's name to its code. Profiles are plain data, loaded with the
 * policy; engines are loaded lazily so commands that never touch a server never load a driver.
 */
const PROFILES: Readonly<Record<EngineName, EngineProfile>> = { postgres: postgresProfile, mysql: mysqlProfile };

const LOADERS: Readonly<Record<EngineName, () => Promise<Engine>>> = {
  postgres: async () => (await import('./postgres/postgres-engine.js')).postgresEngine,
  mysql: async () => (await import('./mysql/mysql-engine.js')).mysqlEngine,
};

/** Engine names the policy accepts, in the order messages list them. */
export const ENGINE_NAMES = Object.keys(PROFILES) as EngineName[];

export function isEngineName(name: string): name is EngineName {
  return Object.hasOwn(PROFILES, name);
}

export function profileOf(name: EngineName): EngineProfile {
  return PROFILES[name];
}

export function loadEngine(name: EngineName): Promise<Engine> {
  return LOADERS[name]();
}
