// The intake load both bench:intake and bench:memory apply: autocannon POSTing distinct
// two-step no-op proposals to a running server.
import autocannon from 'autocannon';

export function intakeLoad(base: string, token: string, seconds: number, connections: number): Promise<autocannon.Result> {
  let n = 0;
  return autocannon({
    url: `${base}/api/ops/proposal`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({ title: `intake ${n++}`, skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }, { kind: 'ops.noop', params: {} }] }),
        }),
      },
    ],
  });
}
