/**
 * The safe horizon of ops_events, for readers that must see every event exactly once in
 * id order (the live event stream).
 *
 * Event ids come from a sequence when a row is inserted, but transactions commit in any
 * order: while a transaction that took id 10 is still open, id 11 may already be
 * visible. A reader that delivered 11 and moved its cursor past 10 would never see 10.
 * So readers only read ids at or below the horizon H: every id <= H is final (visible
 * now, or never going to be).
 *
 * How H advances, per tick, in one REPEATABLE READ transaction with snapshot S:
 * - ids > H that are consecutive from H+1 are final at once (visible in S, so committed).
 * - at the first gap (an id missing below a visible one) we stop. The missing id was
 *   taken before the visible one, hence before S; its writer had its transaction id
 *   before taking the event id (migration 008's `ops_next_event_id()` guarantees it),
 *   so its xid is smaller than X, an xid this tick assigns itself after S. Once every
 *   transaction below X has ended (`pg_snapshot_xmin` of a later snapshot >= X), each
 *   missing id up to the largest id seen in S is either visible or was rolled back:
 *   H jumps there.
 * At start H is unknown: the same rule applied to the largest id visible then.
 *
 * One tracker per process; every stream reads up to its H. It ticks when woken by the
 * notifications the loop already sends (`opsloop_steps`: a proposal approved, a step
 * queued), every `activePollMs` while a stream waits, and every `gapPollMs` while a gap
 * waits on open transactions. (A NOTIFY on every event-writing commit was measured to
 * halve the commit rate of small transactions: PostgreSQL serialises the commits of
 * notifying transactions, so streams poll instead of adding one.)
 */
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import type { Logger } from '@opsloop/core';
import { listen } from '../worker/notifier.ts';

export interface EventHorizon {
  /** The largest id every reader may read up to; undefined until the first tick resolves. */
  current(): bigint | undefined;
  /** Resolves when the horizon passes `after` (or at once if it has), or when `signal` aborts. */
  waitBeyond(after: bigint, signal: AbortSignal): Promise<void>;
  /** Calls `listener` each time the horizon advances; returns the unsubscribe. */
  onAdvance(listener: (horizon: bigint) => void): () => void;
  /** Ask for a tick now (a NOTIFY does this). */
  wake(): void;
  /** Aborts when close() is called: streams end so the server can drain. */
  readonly closed: AbortSignal;
  close(): Promise<void>;
}

export interface EventHorizonOptions {
  pool: pg.Pool;
  /** Connection string for the LISTEN connection; omit to rely on polling alone. */
  url?: string;
  logger: Logger;
  /** Poll while a gap waits on open transactions. (Default: 25 ms) */
  gapPollMs?: number;
  /** Poll while a stream waits for new events. (Default: 100 ms) */
  activePollMs?: number;
  /** Poll while nobody waits (the horizon stays fresh for new streams). (Default: 1000 ms) */
  idlePollMs?: number;
  /** Ids examined per query. (Default: 10000) */
  batch?: number;
}

interface Pending {
  upTo: bigint;
  resolveAt: bigint;
}

export function createEventHorizon(o: EventHorizonOptions): EventHorizon {
  const log = o.logger.child({ component: 'event-horizon' });
  const gapPollMs = o.gapPollMs ?? 25;
  const activePollMs = o.activePollMs ?? 100;
  const idlePollMs = o.idlePollMs ?? 1000;
  let waiting = 0;
  const batch = o.batch ?? 10_000;
  const emitter = new EventEmitter().setMaxListeners(0);
  let horizon: bigint | undefined;
  let pending: Pending | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const closing = new AbortController();

  async function tick(): Promise<void> {
    const client = await o.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      const { rows } = await client.query<{ xmin: string; ids: string[] | null; top: string | null }>(
        `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
                (SELECT array_agg(id ORDER BY id) FROM opsloop_events_after($1, $2))::text[] AS ids,
                (SELECT max(id) FROM ops_events)::text AS top`,
        [horizon === undefined ? '0' : horizon.toString(), horizon === undefined ? 0 : batch],
      );
      const row = rows[0]!;
      const xmin = BigInt(row.xmin);
      if (pending && xmin >= pending.resolveAt) {
        if (horizon === undefined || pending.upTo > horizon) horizon = pending.upTo;
        pending = undefined;
      }
      if (horizon === undefined) {
        // First tick: wait for everything that could still fill a gap below today's top.
        if (!pending) pending = { upTo: row.top ? BigInt(row.top) : 0n, resolveAt: await assignXid(client) };
        await client.query('COMMIT');
        return;
      }
      let h = horizon;
      const ids = (row.ids ?? []).map(BigInt).filter((id) => id > h);
      for (const id of ids) {
        if (id !== h + 1n) break;
        h = id;
      }
      const gapBelow = ids.length > 0 && ids[ids.length - 1]! > h;
      if (pending && h >= pending.upTo) pending = undefined; // the gap filled in
      if (gapBelow && !pending) pending = { upTo: ids[ids.length - 1]!, resolveAt: await assignXid(client) };
      await client.query('COMMIT');
      if (h > horizon) {
        horizon = h;
        again = true; // a full batch may have more behind it
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  // Assigned after the snapshot was taken, so larger than the xid of any writer that
  // took an event id before it.
  async function assignXid(client: pg.PoolClient): Promise<bigint> {
    const { rows } = await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
    return BigInt(rows[0]!.xid);
  }

  function schedule(ms: number) {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(wake, ms);
    timer.unref();
  }

  function wake(): void {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      let failures = 0;
      do {
        again = false;
        const before = horizon;
        try {
          await tick();
          failures = 0;
        } catch (error) {
          if (closed) return;
          log.warn({ err: error }, 'event horizon tick failed');
          if (++failures >= 3) break;
        }
        if (horizon !== before) emitter.emit('advance', horizon);
        // The resolution of a pending gap is decided by the next tick.
        if (!again && pending && horizon !== before) again = true;
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
      schedule(pending ? gapPollMs : waiting > 0 ? activePollMs : idlePollMs);
    });
  }

  // A tick after every (re)connect catches up on what was committed while it was down.
  const listener = o.url ? listen(o.url, log, 'opsloop_steps', { notify: wake, up: wake }) : undefined;
  wake();

  return {
    current: () => horizon,
    wake,
    onAdvance(listener) {
      emitter.on('advance', listener);
      return () => emitter.off('advance', listener);
    },
    closed: closing.signal,
    waitBeyond(after, signal) {
      if ((horizon !== undefined && horizon > after) || signal.aborted) return Promise.resolve();
      if (waiting++ === 0 && !pending && !running) schedule(activePollMs);
      return new Promise<void>((resolve) => {
        const done = () => {
          waiting--;
          emitter.off('advance', onAdvance);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const onAdvance = (h: bigint) => {
          if (h > after) done();
        };
        emitter.on('advance', onAdvance);
        signal.addEventListener('abort', done, { once: true });
      });
    },
    async close() {
      closed = true;
      closing.abort();
      clearTimeout(timer);
      await running;
      await listener?.close();
    },
  };
}
