import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the gateway runs from there, as `npm start` runs it). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
