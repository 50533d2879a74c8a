import { randomBytes } from 'node:crypto';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Replaces a file's content all at once: readers (the gateway's watcher) see the old file or
 * the new one, never half of it. The new text goes to a temporary file in the SAME directory
 * (rename is atomic only within one file system), is flushed to disk, keeps the old file's
 * permissions, and is renamed over the target. A symlink (Kubernetes ConfigMap mounts) is
 * followed, so the link stays and its target changes.
 */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  const target = await realpath(file);
  const directory = path.dirname(target);
  const temporary = path.join(directory, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const { mode } = await stat(target);
  let renamed = false;
  try {
    const handle = await open(temporary, 'wx', mode & 0o777);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
    renamed = true;
    // The rename itself is durable only once the directory is flushed.
    const dir = await open(directory, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } finally {
    if (!renamed) await rm(temporary, { force: true });
  }
}
