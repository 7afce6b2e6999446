// Reference answers for the Go agreement test: reads a source map path and
// a JSON list of [line, column] on stdin, prints trace-mapping's
// originalPositionFor for each ([source, line, column, name, source index]
// or null; the index, from traceSegment, tells apart sources of one name).
// Usage: node trace.mjs <dir holding node_modules> <map path> < positions.json
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [, , modulesParent, mapPath] = process.argv;
const require = createRequire(join(modulesParent, 'noop.js'));
const { AnyMap, originalPositionFor, traceSegment } = require('@jridgewell/trace-mapping');

const map = new AnyMap(readFileSync(mapPath, 'utf8'));
const positions = JSON.parse(readFileSync(0, 'utf8'));
const out = positions.map(([line, column]) => {
  const p = originalPositionFor(map, { line, column });
  if (p.source === null) return null;
  const segment = traceSegment(map, line - 1, column);
  return [p.source, p.line, p.column, p.name, segment[1]];
});
process.stdout.write(JSON.stringify(out));
