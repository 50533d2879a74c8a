import { ANSI, PLAIN, type Painter } from '../shadow/diffFormat.ts';

/** Colours for diff lines only on a terminal; NO_COLOR turns them off, FORCE_COLOR on. */
export function painter(): Painter {
  if (process.env.NO_COLOR) return PLAIN;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return ANSI;
  return process.stdout.isTTY ? ANSI : PLAIN;
}
