import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Slack incoming webhook on loopback: accepts `POST /services/T000/B000/XXXX` with a
 * JSON `{text, blocks?}` and answers `ok` (and records posts to an interaction's
 * response_url under `/actions/`), or fails as Slack does (`500 internal_error`,
 * `404 no_service`) while `down` is set.
 */
export async function startFakeSlack() {
  const messages: { text: string; blocks?: unknown[] }[] = [];
  /** Posts to an interaction's response_url (`/actions/...`). */
  const responses: { path: string; body: Record<string, unknown> }[] = [];
  let failWith: { status: number; body: string } | undefined;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url?.startsWith('/actions/')) {
        responses.push({ path: req.url, body: JSON.parse(body) as Record<string, unknown> });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      if (req.method !== 'POST' || !req.url?.startsWith('/services/')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no_service');
        return;
      }
      if (failWith) {
        res.writeHead(failWith.status, { 'content-type': 'text/plain' }).end(failWith.body);
        return;
      }
      try {
        const parsed = JSON.parse(body) as { text?: string; blocks?: unknown[] };
        if (!parsed.text) throw new Error('no text');
        messages.push(parsed.blocks ? { text: parsed.text, blocks: parsed.blocks } : { text: parsed.text });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/secretwebhookpart`,
    responseUrl: `http://127.0.0.1:${port}/actions/T000/1234/secretresponsepart`,
    messages,
    responses,
    down(status = 500, body = 'internal_error') {
      failWith = { status, body };
    },
    up() {
      failWith = undefined;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
