import { isCollection, isScalar, isSeq, visit, type Document, type LineCounter, type Node, type Scalar, type YAMLError } from 'yaml';
import type { ConfigProblem } from './problems.ts';

/**
 * YAML syntax errors as problems at the line and column a person must fix. The parser
 * places an unclosed `[`, `{` or quote where it gave up (often the next key, lines later),
 * so those point at the bracket or quote that was opened and never closed.
 */
export function syntaxProblems(doc: Document, errors: readonly YAMLError[], file: string, lineCounter: LineCounter): ConfigProblem[] {
  return errors.map((error) => {
    const unclosed = unclosedOpener(doc, error);
    const at = lineCounter.linePos(unclosed?.offset ?? error.pos[0]);
    const message = unclosed ? `'${unclosed.opener}' is never closed (${firstLine(error)})` : firstLine(error);
    return { file, line: at.line, column: at.col, field: '', message: `YAML syntax: ${message}` };
  });
}

function firstLine(error: YAMLError): string {
  return error.message.split('\n')[0]!;
}

/** The flow collection or quoted scalar that ends where the parser reported a missing closer. */
function unclosedOpener(doc: Document, error: YAMLError): { offset: number; opener: string } | null {
  const missingBracket = error.code === 'BAD_INDENT' && / end with an? [\]}]/.test(error.message);
  const missingQuote = error.code === 'MISSING_CHAR' && /quote/.test(error.message);
  if (!missingBracket && !missingQuote) return null;
  let found: { offset: number; opener: string } | null = null;
  const check = (node: Node) => {
    const range = node.range;
    if (!range || range[1] !== error.pos[0]) return;
    const flowCollection = missingBracket && isCollection(node) && node.flow === true;
    const quoted = missingQuote && isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE');
    // The outermost one wins: visiting is top-down, so keep the first.
    if (found !== null || !(flowCollection || quoted)) return;
    const opener = isSeq(node) ? '[' : isCollection(node) ? '{' : (node as Scalar).type === 'QUOTE_DOUBLE' ? '"' : "'";
    found = { offset: range[0], opener };
  };
  visit(doc, { Seq: (_k, node) => check(node), Map: (_k, node) => check(node), Scalar: (_k, node) => check(node) });
  return found;
}
