/**
 * Start-up (every module loaded and compiled, migrations, the catalog, the first
 * claims) leaves garbage behind and V8's young generation grown to its largest. V8's
 * memory reducer hands that back by itself, but only once it has seen the process idle
 * for a while: 8–16 s after ready here, 15–19 MB of RSS (`--trace-gc` shows its
 * `Mark-Compact (reduce)`). One memory-reducing collection just before the service
 * reports ready gives it back at once, for a pause of a few tens of milliseconds while
 * /ready still answers 503; the young generation grows again as load needs it.
 *
 * It needs `--expose-gc`, which the deployed start command passes; without it this does
 * nothing and the memory reducer gets there later.
 */
export function releaseStartupMemory(): boolean {
  if (typeof globalThis.gc !== 'function') return false;
  // 'last-resort' is V8's memory-reducing full collection (the one a low-memory
  // notification runs): it also shrinks the young generation, which a plain gc() keeps.
  globalThis.gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return true;
}
