import pg from 'pg';
import { backoffDelayMs, type Logger } from '@opsloop/core';

export interface Listener {
  /** Resolves once the first LISTEN is in place. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * A dedicated connection LISTENing on `channel`. Reconnects with backoff; `onUp` runs
 * once each (re)connection listens, `onDown` when it is lost: notifications sent in
 * between are missed, so callers fall back (polling, reading fresh) while it is down.
 */
export function listen(
  url: string,
  logger: Logger,
  channel: string,
  on: { notify(payload: string | undefined): void; up?(): void; down?(): void },
): Listener {
  let client: pg.Client | undefined;
  let closed = false;
  let attempt = 0;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  async function connect(): Promise<void> {
    if (closed) return;
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (n) => on.notify(n.payload));
    c.on('error', (error) => {
      logger.warn({ err: error, channel }, 'LISTEN connection lost; reconnecting');
      on.down?.();
      void c.end().catch(() => {});
      if (client === c) client = undefined;
      setTimeout(() => void connect(), backoffDelayMs(attempt++, 100, 10_000)).unref();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      if (closed) return void (await c.end());
      client = c;
      attempt = 0;
      on.up?.();
      markReady();
    } catch (error) {
      logger.warn({ err: error, channel }, 'LISTEN connect failed; retrying');
      await c.end().catch(() => {});
      setTimeout(() => void connect(), backoffDelayMs(attempt++, 100, 10_000)).unref();
    }
  }
  void connect();
  return {
    ready,
    async close() {
      closed = true;
      on.down?.();
      await client?.end().catch(() => {});
    },
  };
}

/**
 * LISTEN on `opsloop_steps`, so idle workers start a step within milliseconds of its
 * enqueue; the worker's polling covers a lost connection.
 */
export function listenForSteps(url: string, logger: Logger, onNotify: () => void): Listener {
  // On (re)connect: anything enqueued while disconnected.
  return listen(url, logger, 'opsloop_steps', { notify: onNotify, up: onNotify });
}
