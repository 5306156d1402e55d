import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

/**
 * A fake S3-compatible server on loopback for tests: path-style PutObject, GetObject,
 * HeadObject, ListObjectsV2 (prefix, continuation) and DeleteObject, with the wire format
 * of the real API (XML listings and errors, ETag). It checks that every request is
 * signed with the expected access key (not the signature itself) and keeps objects in
 * memory.
 */
export interface FakeS3 {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  objects: Map<string, Buffer>;
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

export async function startFakeS3(o: { bucket?: string; maxKeys?: number } = {}): Promise<FakeS3> {
  const bucket = o.bucket ?? 'opsloop-test';
  const accessKeyId = 'AKIAFAKEOPSLOOP';
  const secretAccessKey = 'fake-secret-key-0123456789';
  const objects = new Map<string, Buffer>();
  const requests: { method: string; path: string }[] = [];

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({ method: req.method ?? '', path: url.pathname });
    const body = await readBody(req);
    if (!String(req.headers.authorization ?? '').includes(`Credential=${accessKeyId}/`)) return error(res, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    const [, b, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (b !== bucket) return error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');

    if (req.method === 'GET' && !key && url.searchParams.get('list-type') === '2') return list(res, url);
    if (!key) return error(res, 400, 'InvalidRequest', 'unsupported request');
    switch (req.method) {
      case 'PUT': {
        const data = String(req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-') ? decodeAwsChunked(body) : body;
        objects.set(key, data);
        res.writeHead(200, { ETag: `"${createHash('md5').update(data).digest('hex')}"` }).end();
        return;
      }
      case 'GET':
      case 'HEAD': {
        const data = objects.get(key);
        if (!data) return error(res, 404, 'NoSuchKey', 'The specified key does not exist.', req.method === 'HEAD');
        res.writeHead(200, { 'Content-Length': data.length, 'Content-Type': 'application/octet-stream', ETag: `"${createHash('md5').update(data).digest('hex')}"` });
        res.end(req.method === 'HEAD' ? undefined : data);
        return;
      }
      case 'DELETE':
        objects.delete(key);
        res.writeHead(204).end();
        return;
      default:
        return error(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
  });

  function list(res: http.ServerResponse, url: URL) {
    const prefix = url.searchParams.get('prefix') ?? '';
    const max = Math.min(Number(url.searchParams.get('max-keys') ?? 1000), o.maxKeys ?? 1000);
    const after = url.searchParams.get('continuation-token') ?? url.searchParams.get('start-after') ?? '';
    const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = keys.slice(0, max);
    const truncated = keys.length > page.length;
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
      `<Name>${esc(bucket)}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys>`,
      `<IsTruncated>${truncated}</IsTruncated>`,
      truncated ? `<NextContinuationToken>${esc(page.at(-1)!)}</NextContinuationToken>` : '',
      ...page.map((k) => `<Contents><Key>${esc(k)}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"x"</ETag><Size>${objects.get(k)!.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`),
      '</ListBucketResult>',
    ].join('');
    res.writeHead(200, { 'Content-Type': 'application/xml' }).end(xml);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId,
    secretAccessKey,
    objects,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function error(res: http.ServerResponse, status: number, code: string, message: string, head = false) {
  res.writeHead(status, { 'Content-Type': 'application/xml' });
  res.end(head ? undefined : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${esc(message)}</Message><RequestId>fake</RequestId></Error>`);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** `aws-chunked` bodies: `<hex size>[;chunk-signature=…]\r\n<data>\r\n` … `0\r\n` [trailers]. */
function decodeAwsChunked(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', i);
    if (eol === -1) break;
    const size = Number.parseInt(body.subarray(i, eol).toString().split(';')[0]!, 16);
    if (!size) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
