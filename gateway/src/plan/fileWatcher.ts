import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/**
 * Watches the routes file's DIRECTORY, not the file: editors save by writing a new file and
 * renaming it over the old one (and Kubernetes swaps a symlinked directory), which a watch
 * on the file itself would miss after the first save. Any event in the directory triggers a
 * check after a short quiet period (so a save made of several writes is read once, whole);
 * the check itself ignores a file whose content did not change.
 */
export class FileWatcher {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly file: string,
    private readonly onChange: () => void,
    private readonly onError: (error: Error) => void,
    private readonly quietMs = 75,
  ) {}

  start(): void {
    this.watcher = watch(path.dirname(path.resolve(this.file)), { persistent: false }, () => this.schedule());
    this.watcher.on('error', (error) => this.onError(error));
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
