import { ConfigError } from '@mythoughts/runtime/errors';
import { IgnoreRule } from '../core/jsonPath.ts';

/** The `--ignore PATH` options of compare and replay, each a body location not compared. */
export function ignoreOptions(texts: readonly string[] = []): IgnoreRule[] {
  return texts.map((text) => {
    const rule = IgnoreRule.parse(text);
    if (rule instanceof IgnoreRule) return rule;
    throw new ConfigError(`--ignore ${rule.error}`);
  });
}
