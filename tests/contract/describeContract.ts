import { afterAll, beforeAll, describe, inject } from 'vitest';
import { startSystem, type DatabaseKind, type MyThoughtsSystem } from '../support/system.ts';
import { defineApiContract } from './apiContract.ts';
import { openTarget, TARGET_NAMES, type ApiTarget } from './targets.ts';

/** The contract suite against every implementation, each on its own fresh database of this kind. */
export function describeContractOn(database: DatabaseKind): void {
  for (const name of TARGET_NAMES) {
    describe(`API contract [${name} × ${database}]`, () => {
      let system: MyThoughtsSystem;
      let target: ApiTarget;
      beforeAll(async () => {
        system = await startSystem(database, database === 'postgres' ? inject('postgresAdminUrl') : undefined);
        target = await openTarget(name, system);
      });
      afterAll(async () => {
        await target?.close();
        await system?.stop();
      });
      defineApiContract(() => target);
    });
  }
}
