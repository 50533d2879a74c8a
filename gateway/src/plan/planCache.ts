import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfExists, writeFileAtomically } from '@mythoughts/runtime/files';

/** GATEWAY_PLAN_CACHE's default: under the working directory, beside the other runtime data. */
export const DEFAULT_PLAN_CACHE = 'data/plan-cache.yaml';

/**
 * A replica's local copy of the last good plan it ran from a remote store (GATEWAY_PLAN_CACHE),
 * so that a replica restarted while the store is away still starts and serves it. Written
 * atomically (temporary file + rename): a crash mid-write leaves the previous copy whole.
 */
export class PlanCache {
  constructor(readonly file: string) {}

  async save(text: string): Promise<void> {
    await mkdir(path.dirname(path.resolve(this.file)), { recursive: true });
    await writeFileAtomically(this.file, text);
  }

  /** The cached text, null when there is none. */
  load(): Promise<string | null> {
    return readTextIfExists(this.file);
  }
}
