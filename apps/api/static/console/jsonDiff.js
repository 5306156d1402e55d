// The browser's copy of packages/core/src/jsonDiff.ts (same rules: objects key by key,
// arrays and scalars whole); test/console.jsonDiff.test.ts keeps the two in agreement.
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

export function stableJson(v) {
  return JSON.stringify(v, (_k, val) => (isObject(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : val));
}

export function jsonDiff(before, after, path = '') {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => {
      const p = path ? `${path}.${k}` : k;
      if (!(k in after)) return [{ path: p, kind: 'removed', before: before[k] }];
      if (!(k in before)) return [{ path: p, kind: 'added', after: after[k] }];
      return jsonDiff(before[k], after[k], p);
    });
  }
  if (before === undefined) return after === undefined ? [] : [{ path, kind: 'added', after }];
  return stableJson(before) === stableJson(after) ? [] : [{ path, kind: 'changed', before, after }];
}
