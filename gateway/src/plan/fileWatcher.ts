import { readlinkSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/**
 * Watches the routes file's DIRECTORY, not the file: editors save by writing a new file and
 * renaming it over the old one (and Kubernetes swaps a symlinked directory), which a watch
 * on the file itself would miss after the first save. Only events that name the file (a
 * rename over it names it too) or, for a symlink into its directory, the entry the link goes
 * through, trigger a check: the audit log, the rollout's progress or an access log written
 * beside it would otherwise have the plan re-read and validated at every write. The check
 * runs after a short quiet period (so a save made of several writes is read once, whole) and
 * ignores a file whose content did not change.
 */
export class FileWatcher {
  private readonly file: string;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    file: string,
    private readonly onChange: () => void,
    private readonly onError: (error: Error) => void,
    private readonly quietMs = 75,
  ) {
    this.file = path.resolve(file);
  }

  start(): void {
    this.watcher = watch(path.dirname(this.file), { persistent: false }, (_event, name) => {
      // Some platforms give no name: then any event may be the file's.
      if (name === null || this.namesOfFile().includes(name)) this.schedule();
    });
    this.watcher.on('error', (error) => this.onError(error));
  }

  /**
   * The directory entries whose change changes the file: its own name and, when it is a
   * relative symlink into its directory, the entry the link goes through (a Kubernetes
   * ConfigMap volume: routes.yaml → ..data/routes.yaml, where the kubelet renames a new
   * `..data` link over the old one). Read at each event: the file may become a link.
   */
  private namesOfFile(): string[] {
    const names = [path.basename(this.file)];
    let target: string;
    try {
      target = readlinkSync(this.file);
    } catch {
      return names; // not a symlink, or not there at this moment (the middle of a save)
    }
    const through = target.split(/[\\/]/)[0];
    if (!path.isAbsolute(target) && through && through !== '.' && through !== '..') names.push(through);
    return names;
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onChange();
    }, this.quietMs);
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = null;
  }
}
