// Child process of intake.ts: the real app on a throwaway database, in its own process
// so the load generator does not share its CPU. Prints its URL, serves until killed.
import type { AddressInfo } from 'node:net';
import { silentLogger, systemClock } from '@opsloop/core';
import { createOpsDeps } from '@opsloop/ops';
import { createApp } from '@opsloop/api';
import { benchDatabase } from './db.ts';

const token = process.argv[2]!;
const { db, close } = await benchDatabase(Number(process.env.BENCH_POOL_SIZE ?? 20));
const ops = createOpsDeps({ db, clock: systemClock, logger: silentLogger(), timeZone: 'Asia/Tokyo' });
const logger = ops.logger;
const app = createApp({
  db,
  logger,
  config: { BODY_LIMIT: '1mb' },
  tokens: { apiToken: token, heartbeatToken: token },
  readiness: { notReadyReason: () => undefined },
  ops,
  heartbeat: { ...ops, pool: db.pool, heartbeatWindowMinutes: 15 },
});
let cpuAtStart = process.cpuUsage();
const server = app.listen(0, '127.0.0.1', () => {
  cpuAtStart = process.cpuUsage();
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('message', async (message) => {
  if (message !== 'report') return;
  // CPU this process spent serving the load: unlike throughput, barely moved by whatever
  // else the machine is running.
  const cpu = process.cpuUsage(cpuAtStart);
  const approved = await db.prisma.opsProposal.count({ where: { status: 'approved' } });
  process.send!({ approved, cpuMs: (cpu.user + cpu.system) / 1000 });
  server.close();
  await close();
  process.exit(0);
});
