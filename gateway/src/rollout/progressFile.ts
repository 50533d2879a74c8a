import path from 'node:path';
import { readTextIfExists, writeFileAtomically } from '@mythoughts/runtime/files';
import { parseProgress, progressText, type Deadline, type ProgressStore, type RouteProgress } from './progress.ts';

/** `routes.rollout.json` beside `routes.yaml`. */
export function progressFileFor(routesFile: string): string {
  return path.join(path.dirname(path.resolve(routesFile)), `${path.basename(routesFile).replace(/\.ya?ml$/, '')}.rollout.json`);
}

/**
 * The rollout's progress beside routes.yaml (JSON, replaced atomically on every change, so
 * a crash leaves the old progress or the new one, never half of it).
 */
export class ProgressFile implements ProgressStore {
  constructor(readonly where: string) {}

  async read(): Promise<Record<string, RouteProgress>> {
    return parseProgress(await readTextIfExists(this.where), this.where);
  }

  /** One process writes it (GATEWAY_ROLLOUT=off on the others): there is no leadership to check. */
  async write(routes: Readonly<Record<string, RouteProgress>>): Promise<void> {
    await writeFileAtomically(this.where, progressText(routes), { mode: 0o640 });
  }

  /** By this host's clock: the file is written and read on this host only (a restarted process, a cluster primary). */
  deadline(seconds: number): Promise<Deadline> {
    return Promise.resolve({ at: Date.now() + seconds * 1000 });
  }

  untilDeadline(deadline: Deadline): Promise<number | null> {
    return Promise.resolve('at' in deadline ? Math.max(0, deadline.at - Date.now()) : null);
  }
}
