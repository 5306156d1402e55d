import pg from 'pg';
import { backoffDelayMs, type Logger } from '@opsloop/core';

/**
 * A dedicated connection LISTENing on `opsloop_steps`, so idle workers start a step
 * within milliseconds of its enqueue. Reconnects with backoff; the worker's polling
 * covers the gap.
 */
export function listenForSteps(url: string, logger: Logger, onNotify: () => void): { ready: Promise<void>; close(): Promise<void> } {
  return listenOn(url, 'opsloop_steps', logger, onNotify);
}

/** One dedicated LISTEN connection on `channel`; `onNotify` also runs after every (re)connect. */
export function listenOn(url: string, channel: string, logger: Logger, onNotify: () => void): { ready: Promise<void>; close(): Promise<void> } {
  let client: pg.Client | undefined;
  let closed = false;
  let attempt = 0;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  async function connect(): Promise<void> {
    if (closed) return;
    const c = new pg.Client({ connectionString: url });
    c.on('notification', onNotify);
    c.on('error', (error) => {
      logger.warn({ err: error }, 'LISTEN connection lost; reconnecting');
      void c.end().catch(() => {});
      if (client === c) client = undefined;
      setTimeout(() => void connect(), backoffDelayMs(attempt++, 100, 10_000)).unref();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      if (closed) return void (await c.end());
      client = c;
      attempt = 0;
      markReady();
      onNotify(); // anything enqueued while disconnected
    } catch (error) {
      logger.warn({ err: error }, 'LISTEN connect failed; retrying');
      await c.end().catch(() => {});
      setTimeout(() => void connect(), backoffDelayMs(attempt++, 100, 10_000)).unref();
    }
  }
  void connect();
  return {
    /** Resolves once the first LISTEN is in place. */
    ready,
    async close() {
      closed = true;
      await client?.end().catch(() => {});
    },
  };
}
