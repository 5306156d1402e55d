import type { Logger } from '@opsloop/core';
import { listen, type Listener } from '../worker/notifier.ts';
import type { RegisteredKinds } from './registeredKinds.ts';

/**
 * Keeps this process's cache of registered kinds fresh: the `ops_step_kinds` trigger
 * NOTIFYs `opsloop_catalog` with the changed name on every write (API or SQL), and the
 * cache is only used while this connection is up.
 */
export function listenForCatalogChanges(url: string, logger: Logger, kinds: RegisteredKinds): Listener {
  return listen(url, logger, 'opsloop_catalog', {
    notify: (name) => kinds.invalidate(name ?? '*'),
    up: () => kinds.setListening(true),
    down: () => kinds.setListening(false),
  });
}
