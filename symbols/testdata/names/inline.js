// Shapes a minifier inlines: an anonymous callback run once, and a small
// helper called once, both end up inside their caller's minified body.
export function outer(items) {
  (function () {
    items.forEach(function (x) { report(x); });
    reportAll(items);
  })();
  return helper(items) + 1;
}

function helper(items) {
  report(items.length);
  return items.length;
}

const table = {
  load: function () { report('load'); },
  save(x) { report(x); },
};

export class Store {
  get(key) { report(key); return table.load(); }
  #secret() { report('secret'); }
  put(x) { this.#secret(); table.save(x); }
}

export const arrow = (x) => { report(x); };
export const ready = (function () { report('iife'); return 1; })();

function report(x) { console.log(x); }
function reportAll(x) { console.log(x); }
