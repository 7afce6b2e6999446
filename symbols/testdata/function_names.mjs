// True function names for the Go naming tests, read from original sources
// with a real parser (acorn, after flow-remove-types for Flow sources), independent of stacklens's own scope scanner.
// Input on stdin: [{"file": path, "positions": [[line, column], ...]}]
// (line 1-based, column 0-based in UTF-16 units, as in source maps).
// Output: for each file, for each position, null when the file does not
// parse, else {"call": bool, "name": string|null}: call says a call's
// callee name starts there (where a stack frame points); name is the
// function whose body holds the position, named as JavaScript names it
// (declaration, variable, property, method, assignment), "" when that
// function is anonymous, null at top level.
// Usage: node function_names.mjs <dir holding node_modules> < input.json
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [, , modulesParent] = process.argv;
const require = createRequire(join(modulesParent, 'noop.js'));
const acorn = require('acorn');
const flowRemoveTypes = require('flow-remove-types');

const isFunction = (n) =>
  n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression';

function keyName(key, computed) {
  if (!computed && key.type === 'Identifier') return key.name;
  if (key.type === 'PrivateIdentifier') return '#' + key.name;
  if (key.type === 'Literal' && typeof key.value === 'string') return key.value;
  return '';
}

// nameOf names a function from its own id or from where it stands.
function nameOf(fn, parent) {
  if (fn.id) return fn.id.name;
  if (!parent) return '';
  switch (parent.type) {
    case 'VariableDeclarator':
      return parent.init === fn && parent.id.type === 'Identifier' ? parent.id.name : '';
    case 'AssignmentExpression':
    case 'AssignmentPattern':
      if (parent.right !== fn) return '';
      if (parent.left.type === 'Identifier') return parent.left.name;
      if (parent.left.type === 'MemberExpression') return keyName(parent.left.property, parent.left.computed);
      return '';
    case 'Property':
    case 'MethodDefinition':
    case 'PropertyDefinition':
      return parent.value === fn ? keyName(parent.key, parent.computed) : '';
  }
  return '';
}

function parse(src) {
  const options = { ecmaVersion: 'latest', allowHashBang: true, allowReturnOutsideFunction: true };
  try {
    return acorn.parse(src, { ...options, sourceType: 'module' });
  } catch {
    return acorn.parse(src, { ...options, sourceType: 'script' }); // sloppy-mode scripts (jquery)
  }
}

function analyse(file, positions) {
  let src = readFileSync(file, 'utf8');
  let ast;
  try {
    // Flow sources (popper's) lose their types to spaces: positions stay.
    if (/^\s*\/[/*]\s*@flow/.test(src)) src = flowRemoveTypes(src).toString();
    ast = parse(src);
  } catch {
    return positions.map(() => null);
  }
  const lineStarts = [0];
  for (let i = 0; i < src.length; i++) if (src[i] === '\n') lineStarts.push(i + 1);
  const functions = []; // [bodyStart, bodyEnd, name]
  const calls = new Set(); // offsets where a callee's name starts
  (function walk(node, parent) {
    if (isFunction(node)) functions.push([node.body.start, node.body.end, nameOf(node, parent)]);
    if (node.type === 'CallExpression' || node.type === 'NewExpression') {
      let c = node.callee;
      if (c.type === 'MemberExpression') c = c.property;
      calls.add(c.start);
      if (node.type === 'NewExpression') calls.add(node.start);
    }
    for (const key of Object.keys(node)) {
      const v = node[key];
      if (Array.isArray(v)) {
        for (const child of v) if (child && typeof child.type === 'string') walk(child, node);
      } else if (v && typeof v.type === 'string' && key !== 'loc') {
        walk(v, node);
      }
    }
  })(ast, null);
  return positions.map(([line, column]) => {
    if (line < 1 || line > lineStarts.length) return { call: false, name: null };
    const off = lineStarts[line - 1] + column;
    let best = null;
    for (const [start, end, name] of functions) {
      if (start <= off && off < end && (best === null || start >= best[0])) best = [start, end, name];
    }
    return { call: calls.has(off), name: best === null ? null : best[2] };
  });
}

const input = JSON.parse(readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(input.map((f) => analyse(f.file, f.positions))));
