import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { API_TOKEN, startTestApp, type TestApp } from '../../../test/app.ts';

interface Stream {
  ids: number[];
  text: () => string;
  status: Promise<number>;
  close(): void;
  closed: Promise<void>;
}

/** A raw SSE client: records every `id:` it receives and the raw text. */
function openStream(base: string, o: { query?: string; lastEventId?: number; token?: string } = {}): Stream {
  const ids: number[] = [];
  let raw = '';
  let buffer = '';
  let resolveStatus!: (n: number) => void;
  let resolveClosed!: () => void;
  const status = new Promise<number>((r) => (resolveStatus = r));
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const req = http.get(
    `${base}/api/ops/events/stream${o.query ? `?${o.query}` : ''}`,
    { headers: { Authorization: `Bearer ${o.token ?? API_TOKEN}`, ...(o.lastEventId !== undefined ? { 'Last-Event-ID': String(o.lastEventId) } : {}) } },
    (res) => {
      resolveStatus(res.statusCode ?? 0);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (\d+)$/m.exec(message);
          if (id) ids.push(Number(id[1]));
        }
      });
      res.on('close', resolveClosed);
    },
  );
  req.on('error', () => resolveClosed());
  return { ids, text: () => raw, status, close: () => req.destroy(), closed };
}

async function until(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('GET /api/ops/events/stream', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase({ poolSize: 40 });
    t = await startTestApp(db, { maxStreams: 6 });
  });
  afterAll(async () => {
    await t.close();
    await db.drop();
  });

  it('3 streams, 5,000 events from 10 writers committing out of id order, reconnects: every event exactly once, in id order', async () => {
    const start = await db.pool.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM ops_events');
    const since = Number(start.rows[0]!.id);
    const committed: number[] = [];
    let commits = 0;
    let running = 10;
    const waiters: { at: number; resolve: () => void }[] = [];
    const release = () => {
      // Everyone still writing is held: nobody else will commit.
      const stuck = running <= waiters.length;
      for (const w of waiters.filter((w) => stuck || commits >= w.at)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    };
    const onCommit = () => {
      commits++;
      release();
    };
    /** Holds the transaction open until `n` later transactions have committed. */
    const laterCommits = (n: number) =>
      new Promise<void>((resolve) => {
        waiters.push({ at: commits + n, resolve });
        release();
      });

    // The streams: one starts at the beginning, one with since_id, one with Last-Event-ID.
    const streams = [
      [openStream(t.url, { query: `since_id=${since}&kind=test:*` })],
      [openStream(t.url, { query: `since_id=${since}` })],
      [openStream(t.url, { lastEventId: since, query: 'kind=test:sse' })],
    ];
    for (const [s] of streams) expect(await s!.status).toBe(200);

    const PER_WRITER = 500;
    const writer = async (w: number) => {
      let written = 0;
      let tx = 0;
      while (written < PER_WRITER) {
        const size = Math.min(PER_WRITER - written, 1 + ((w * 7 + tx) % 9));
        const client = await db.pool.connect();
        try {
          await client.query('BEGIN');
          const { rows } = await client.query<{ id: string }>(
            `INSERT INTO ops_events (kind, source, payload)
             SELECT 'test:sse', 'test', jsonb_build_object('writer', $1::int, 'n', $2::int + g) FROM generate_series(1, $3::int) g RETURNING id`,
            [w, written, size],
          );
          const rollback = tx % 13 === 5; // permanent gaps
          const hold = !rollback && tx % 11 === 3 && w < 4; // smaller ids committed after larger ones
          if (hold) await laterCommits(25);
          await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
          if (!rollback) {
            committed.push(...rows.map((r) => Number(r.id)));
            written += size;
          }
          onCommit();
        } finally {
          client.release();
        }
        tx++;
      }
      running--;
      release();
    };
    const writers = Promise.all(Array.from({ length: 10 }, (_, w) => writer(w)));

    // Each stream reconnects once mid-way with the last id it received.
    const reconnected = streams.map(async (conns, i) => {
      const first = conns[0]!;
      await until(`stream ${i} to get ${1000 * (i + 1)} events`, () => first.ids.length >= 1000 * (i + 1));
      first.close();
      await first.closed;
      const last = first.ids[first.ids.length - 1]!;
      const again = openStream(t.url, { lastEventId: last, query: i === 0 ? 'kind=test:*' : i === 2 ? 'kind=test:sse' : undefined });
      expect(await again.status).toBe(200);
      conns.push(again);
    });
    await writers;
    await Promise.all(reconnected);
    expect(committed).toHaveLength(5000);
    const expected = [...committed].sort((a, b) => a - b);
    const all = (conns: Stream[]) => conns.flatMap((c) => c.ids);
    await until('every stream to see all 5,000', () => streams.every((conns) => all(conns).length >= 5000));
    for (const conns of streams) {
      const seen = all(conns);
      expect(seen).toEqual(expected);
      conns.forEach((c) => c.close());
    }
    // Rolled-back writes left gaps the streams went past.
    expect(expected[expected.length - 1]! - expected[0]! + 1).toBeGreaterThan(5000);
  }, 120_000);

  it('filters by kind pattern and trace id', async () => {
    const trace = '6f9619ff-8b86-4d01-b42d-00cf4fc964ff';
    const since = (await db.pool.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM ops_events')).rows[0]!.id;
    const byTrace = openStream(t.url, { query: `trace_id=${trace}&since_id=${since}` });
    const byKind = openStream(t.url, { query: `kind=filter:a*&since_id=${since}` });
    expect(await byTrace.status).toBe(200);
    expect(await byKind.status).toBe(200);
    const { rows } = await db.pool.query<{ id: string; kind: string }>(
      `INSERT INTO ops_events (kind, source, trace_id) VALUES ('filter:a1', 'test', NULL), ('filter:b1', 'test', $1::uuid), ('filter:a2', 'test', $1::uuid) RETURNING id, kind`,
      [trace],
    );
    const id = (kind: string) => Number(rows.find((r) => r.kind === kind)!.id);
    await until('filtered events', () => byTrace.ids.length >= 2 && byKind.ids.length >= 2);
    expect(byTrace.ids).toEqual([id('filter:b1'), id('filter:a2')]);
    expect(byKind.ids).toEqual([id('filter:a1'), id('filter:a2')]);
    byTrace.close();
    byKind.close();
  });

  it('bounds concurrent streams (429), sends keep-alive comments, and refuses a bad Last-Event-ID or no token', async () => {
    const small = await startTestApp(db, { maxStreams: 2, keepAliveMs: 20 });
    try {
      const a = openStream(small.url);
      const b = openStream(small.url);
      expect(await a.status).toBe(200);
      expect(await b.status).toBe(200);
      const refused = await small.api.get('/api/ops/events/stream').expect(429);
      expect(refused.body.error.code).toBe('too_many_streams');
      await until('a keep-alive comment', () => a.text().includes(': keep-alive\n\n'));
      a.close();
      await a.closed;
      const c = openStream(small.url);
      let status = await c.status;
      // The server sees the close a moment after the client: retry until the slot is free.
      for (let i = 0; status === 429 && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 10));
        status = await openStream(small.url).status;
      }
      expect(status).toBe(200);
      b.close();
      c.close();
      const bad = await t.api.get('/api/ops/events/stream').set('Last-Event-ID', 'abc').expect(400);
      expect(bad.body.error.issues[0].path).toBe('headers.last-event-id');
      await t.raw.get('/api/ops/events/stream').expect(401);
    } finally {
      await small.close();
    }
  });
});
