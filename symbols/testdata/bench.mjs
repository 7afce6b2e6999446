// Node side of BenchmarkSourceMapVersusNode: cold parse (JSON + decoding
// the mappings) and 10,000 lookups with the positions the Go benchmark
// uses, for @jridgewell/trace-mapping and mozilla source-map. Each step is
// repeated; the minimum and the median are printed as JSON (milliseconds).
// The minimum is what we compare: on a shared machine noise only adds time.
// Usage: node bench.mjs <dir holding node_modules> <map path> <positions.json> <runs>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const [, , modulesParent, mapPath, positionsPath, runsArg] = process.argv;
const require = createRequire(join(modulesParent, 'noop.js'));
const { TraceMap, originalPositionFor, decodedMappings } = require('@jridgewell/trace-mapping');
const { SourceMapConsumer } = require('source-map');

const text = readFileSync(mapPath, 'utf8');
const positions = JSON.parse(readFileSync(positionsPath, 'utf8')).map(([line, column]) => ({ line, column }));
const runs = Number(runsArg) || 5;

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const min = (xs) => Math.min(...xs);

async function measure(parse, lookup, destroy) {
  const parseMs = [];
  const lookupMs = [];
  let sink = 0;
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    const map = await parse();
    parseMs.push(performance.now() - t);
    // Several passes per run so the JIT-warm steady state is what we time.
    for (let pass = 0; pass < 5; pass++) {
      t = performance.now();
      for (const p of positions) if (lookup(map, p).source !== null) sink++;
      lookupMs.push(performance.now() - t);
    }
    destroy(map);
  }
  return {
    parseMs: min(parseMs), lookupsMs: min(lookupMs),
    parseMedianMs: median(parseMs), lookupsMedianMs: median(lookupMs),
    hits: sink / (runs * 5),
  };
}

const traceMapping = await measure(
  () => {
    const map = new TraceMap(text);
    decodedMappings(map); // trace-mapping decodes lazily; a cold parse includes it
    return map;
  },
  (map, p) => originalPositionFor(map, p),
  () => {},
);
const sourceMap = await measure(
  async () => {
    const consumer = await new SourceMapConsumer(text);
    consumer.originalPositionFor({ line: 1, column: 0 }); // forces its lazy mapping parse
    return consumer;
  },
  (consumer, p) => consumer.originalPositionFor(p),
  (consumer) => consumer.destroy(),
);
process.stdout.write(JSON.stringify({ traceMapping, sourceMap, node: process.version, lookups: positions.length }));
