import type { Engine } from '../engine.js';
import { JitError } from '../../core/errors.js';
import { mysqlProfile } from './mysql-profile.js';

const unavailable = (): never => {
  throw new JitError('the mysql engine is not available in this version of jit', { hint: 'use engine: postgres, or upgrade jit', exitCode: 2 });
};

export const mysqlEngine: Engine = {
  name: 'mysql',
  profile: mysqlProfile,
  connectAdmin: async () => unavailable(),
  buildUri: () => unavailable(),
  clientEnv: () => unavailable(),
  clientLaunch: async () => unavailable(),
};
