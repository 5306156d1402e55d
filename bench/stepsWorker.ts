// Child process of steps.ts --processes: one worker with its own pool and LISTEN
// connection, like a replica. Runs until told to stop.
import { createDatabase } from '@opsloop/db';
import { createOpsDeps, createWorker, listenForSteps, type StepHandler } from '@opsloop/ops';
import { silentLogger, systemClock } from '@opsloop/core';

const [url, concurrency] = [process.argv[2]!, Number(process.argv[3])];
const db = createDatabase({ url, poolSize: 4 });
const ops = createOpsDeps({ db, clock: systemClock, logger: silentLogger(), timeZone: 'UTC' });
const handlers = new Map<string, StepHandler>([['ops.noop', async () => null]]);
const worker = createWorker({ deps: ops, handlers, concurrency, pollMs: 200 });
const listener = listenForSteps(url, ops.logger, () => worker.wake());
worker.start();
process.on('message', async () => {
  await worker.stop(1000);
  await listener.close();
  await db.close();
  process.exit(0);
});
