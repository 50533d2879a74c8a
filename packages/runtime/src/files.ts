import { randomBytes } from 'node:crypto';
import { open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Replaces (or creates) a file's content all at once: readers see the old file or the new
 * one, never half of it, and after a crash the disk holds one of the two. The new text goes
 * to a temporary file in the SAME directory (rename is atomic only within one file system),
 * is flushed to disk, and is renamed over the target; then the directory is flushed, since
 * the rename itself is durable only once it is. An existing file keeps its permissions
 * (`mode` applies to a new one) and a symlink (Kubernetes ConfigMap mounts) is followed, so
 * the link stays and its target changes.
 */
export async function writeFileAtomically(file: string, text: string, options: { readonly mode?: number } = {}): Promise<void> {
  const existing = await existingTarget(file);
  const target = existing?.target ?? path.resolve(file);
  const mode = existing?.mode ?? options.mode ?? 0o644;
  const directory = path.dirname(target);
  const temporary = path.join(directory, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let renamed = false;
  try {
    const handle = await open(temporary, 'wx', mode);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
    renamed = true;
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

/** A file's text, or null when there is no such file (any other failure is thrown). */
export async function readTextIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function existingTarget(file: string): Promise<{ target: string; mode: number } | null> {
  let target: string;
  try {
    target = await realpath(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return { target, mode: (await stat(target)).mode & 0o777 };
}
