// Compares a source map before and after `sourcemap inject` with the reference
// implementation (@jridgewell/trace-mapping): every generated position of the
// original map, moved right by the snippet on line 1, must resolve to the same
// original position, name included; positions inside the snippet must resolve
// to nothing. Prints one JSON line.
const fs = require('fs');
const { TraceMap, originalPositionFor, eachMapping } = require('@jridgewell/trace-mapping');

const [beforePath, afterPath, shiftArg] = process.argv.slice(2);
const shift = Number(shiftArg);
const before = new TraceMap(JSON.parse(fs.readFileSync(beforePath, 'utf8')));
const after = new TraceMap(JSON.parse(fs.readFileSync(afterPath, 'utf8')));

let checked = 0;
let named = 0;
const mismatches = [];
eachMapping(before, (m) => {
  const want = originalPositionFor(before, { line: m.generatedLine, column: m.generatedColumn });
  const column = m.generatedColumn + (m.generatedLine === 1 ? shift : 0);
  const got = originalPositionFor(after, { line: m.generatedLine, column });
  checked++;
  if (want.name) named++;
  if (JSON.stringify(want) !== JSON.stringify(got)) {
    mismatches.push({ line: m.generatedLine, column, want, got });
  }
});
let afterCount = 0;
eachMapping(after, () => afterCount++);
const inSnippet = [0, Math.floor(shift / 2), shift - 1].map(
  (column) => originalPositionFor(after, { line: 1, column }).source,
);
console.log(JSON.stringify({
  checked, named, afterCount, mismatchCount: mismatches.length,
  mismatches: mismatches.slice(0, 5), inSnippet,
}));
