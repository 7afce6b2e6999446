// Bundled with lodash-es by esbuild: its `export default f` modules become
// `var f_default = f`, names a map may carry in place of the source's own.
import { groupBy, keyBy, countBy, debounce, merge, cloneDeep, sortBy, uniqBy, template, partition } from 'lodash-es';

export function run(data) {
  return [groupBy(data, 'a'), keyBy(data, 'b'), countBy(data), partition(data, Boolean), sortBy(data), uniqBy(data, 'a'),
    merge({}, data), cloneDeep(data), debounce(run, 10), template('<%= a %>')({ a: 1 })];
}
