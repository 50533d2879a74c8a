import { stageOf, STAGES, type FoldedProfile } from './cpuProfile.ts';

/**
 * Folded stacks → a flame graph as one self-contained SVG (root at the bottom, each frame as
 * wide as its share of the busy time, coloured by the request-path stage it belongs to; a
 * frame's tooltip gives its name, milliseconds and share). What Brendan Gregg's
 * flamegraph.pl draws, in the few lines this bench needs.
 */
interface Frame {
  readonly name: string;
  ms: number;
  readonly children: Map<string, Frame>;
  /** The stage of the first stack through this frame (its colour). */
  stage: string;
}

const WIDTH = 1200;
const ROW = 16;
const MIN_PX = 0.3;
const PALETTE = [
  '#e6550d',
  '#fd8d3c',
  '#31a354',
  '#74c476',
  '#3182bd',
  '#6baed6',
  '#9e9ac8',
  '#756bb1',
  '#e7ba52',
  '#bd9e39',
  '#d6616b',
  '#969696',
  '#636363',
  '#c6dbef',
];

export function flameGraphSvg(folded: FoldedProfile, title: string): string {
  const root: Frame = { name: 'all', ms: 0, children: new Map(), stage: '' };
  for (const [stack, ms] of folded.stacks) {
    const stage = stageOf(stack);
    root.ms += ms;
    let node = root;
    for (const name of stack.split(';')) {
      let child = node.children.get(name);
      if (child === undefined) node.children.set(name, (child = { name, ms: 0, children: new Map(), stage }));
      child.ms += ms;
      node = child;
    }
  }
  const scale = root.ms === 0 ? 0 : WIDTH / root.ms;
  const visible = (frame: Frame) => frame.ms * scale >= MIN_PX;
  const depthOf = (frame: Frame): number => Math.max(0, ...[...frame.children.values()].filter(visible).map((c) => 1 + depthOf(c)));
  const depth = depthOf(root);
  const top = 40 + STAGES.length * 14;
  const rects: string[] = [];
  // The root sits at the bottom, each callee one row above its caller.
  const draw = (frame: Frame, x: number, level: number) => {
    if (!visible(frame)) return;
    rects.push(rect(frame, x, top + (depth - level) * ROW, frame.ms * scale, root.ms, level === 0));
    let childX = x;
    for (const child of [...frame.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      draw(child, childX, level + 1);
      childX += child.ms * scale;
    }
  };
  draw(root, 0, 0);
  const legend = STAGES.map(
    (s, i) => `<rect x="10" y="${36 + i * 14}" width="10" height="10" fill="${colour(s.stage)}"/><text x="26" y="${45 + i * 14}">${escape(s.stage)}</text>`,
  );
  const height = top + (depth + 1) * ROW + 10;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="11">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="10" y="20" font-size="14">${escape(title)}</text>
${legend.join('\n')}
${rects.join('\n')}
</svg>
`;
}

function rect(frame: Frame, x: number, y: number, width: number, totalMs: number, isRoot: boolean): string {
  const share = totalMs === 0 ? 0 : (100 * frame.ms) / totalMs;
  const tooltip = `${frame.name} — ${frame.ms.toFixed(1)} ms, ${share.toFixed(2)} %`;
  const label = width > 40 ? `<text x="${(x + 3).toFixed(1)}" y="${y + 11}">${escape(fit(frame.name, width))}</text>` : '';
  const fill = isRoot ? '#dddddd' : colour(frame.stage);
  return `<g><title>${escape(tooltip)}</title><rect x="${x.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${ROW - 1}" fill="${fill}"/>${label}</g>`;
}

function colour(stage: string): string {
  const index = STAGES.findIndex((s) => s.stage === stage);
  return PALETTE[index === -1 ? PALETTE.length - 1 : index % PALETTE.length]!;
}

function fit(text: string, width: number): string {
  const chars = Math.floor((width - 6) / 6.6);
  return text.length <= chars ? text : text.slice(0, Math.max(0, chars - 1)) + '…';
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
