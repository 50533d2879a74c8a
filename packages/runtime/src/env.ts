import { ConfigError } from './errors.ts';

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * A yes/no environment variable. Every process of the repo (gateway, back ends, tracing)
 * accepts the same words, case-insensitive: true/1/yes/on and false/0/no/off; unset or
 * empty is `fallback`. Anything else is a ConfigError naming the variable and the words.
 */
export function envFlag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = (env[name] ?? '').trim().toLowerCase();
  if (text === '') return fallback;
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw new ConfigError(`${name}=${env[name]} must be true or false (or 1/0, yes/no, on/off)`);
}

/**
 * A whole-number environment variable from `min` to `max`; unset or empty is `fallback`.
 * Anything else is a ConfigError naming the variable and the range.
 */
export function envWholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new ConfigError(`${name}=${text} must be a whole number from ${min} to ${max}`);
  return value;
}
