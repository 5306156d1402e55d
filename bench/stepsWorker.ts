// Child process of steps.ts --processes: one worker with its own pool and LISTEN
// connection, like a replica. Says 'ready', starts when told to, reports its handler
// count, and runs until told to stop.
import { createDatabase } from '@opsloop/db';
import { createOpsDeps, createWorker, listenForSteps, type StepHandler } from '@opsloop/ops';
import { silentLogger, systemClock } from '@opsloop/core';

const [url, concurrency] = [process.argv[2]!, Number(process.argv[3])];
const db = createDatabase({ url, poolSize: 4 });
const ops = createOpsDeps({ db, clock: systemClock, logger: silentLogger(), timeZone: 'UTC' });
// Handler calls so far, reported to the parent at most every 20 ms (its progress count).
let handled = 0;
let reported = 0;
const handlers = new Map<string, StepHandler>([
  [
    'ops.noop',
    async () => {
      handled++;
      return null;
    },
  ],
]);
setInterval(() => {
  if (handled !== reported) process.send!((reported = handled));
}, 20).unref();
const worker = createWorker({ deps: ops, handlers, concurrency, pollMs: 200 });
const listener = listenForSteps(url, ops.logger, () => worker.wake());
await listener.ready;
process.send!('ready');
process.on('message', async (message: 'start' | 'stop') => {
  if (message === 'start') return worker.start();
  await worker.stop(1000);
  await listener.close();
  await db.close();
  process.exit(0);
});
