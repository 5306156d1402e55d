import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type * as S3 from '@aws-sdk/client-s3';
import { MANIFEST_FILE } from './types.ts';

/**
 * Where backups (and retention archives) are stored. A backup is a set of files under
 * its name; it is complete once its manifest is written, and `list` only returns
 * complete ones.
 */
export interface BackupDestination {
  /** `local` or `s3`. */
  readonly kind: 'local' | 's3';
  /** A scratch directory for files before `put` (on the same disk for a local destination). */
  stagingDir(): string;
  /** Where a backup lives, for people: a path or an s3:// URL. Never a credential. */
  location(name: string): string;
  /** Stores a local file as `<name>/<file>`. */
  put(name: string, file: string, localPath: string): Promise<void>;
  read(name: string, file: string): Promise<Readable>;
  /** Complete backups, oldest first. */
  list(): Promise<string[]>;
  remove(name: string): Promise<void>;
}

export function localDestination(dir: string): BackupDestination {
  const root = path.resolve(dir);
  return {
    kind: 'local',
    stagingDir: () => path.join(root, '.staging'),
    location: (name) => path.join(root, name),
    async put(name, file, localPath) {
      const target = path.join(root, name, file);
      await fsp.mkdir(path.dirname(target), { recursive: true });
      // Staged on the same disk (see stagingDir), so this is a rename, not a copy.
      await fsp.rename(localPath, target).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EXDEV') throw error;
        await fsp.copyFile(localPath, target);
      });
    },
    async read(name, file) {
      const target = path.join(root, name, file);
      await fsp.access(target);
      return fs.createReadStream(target);
    },
    async list() {
      const entries = await fsp.readdir(root, { withFileTypes: true }).catch(() => []);
      const names: string[] = [];
      for (const e of entries) {
        if (!e.isDirectory() || e.name.startsWith('.')) continue;
        if (await fsp.access(path.join(root, e.name, MANIFEST_FILE)).then(() => true, () => false)) names.push(e.name);
      }
      return names.sort();
    },
    async remove(name) {
      await fsp.rm(path.join(root, name), { recursive: true, force: true });
    },
  };
}

export interface S3Options {
  bucket: string;
  /** Key prefix for every backup. (Default: opsloop-backups) */
  prefix?: string;
  /** R2: https://<account>.r2.cloudflarestorage.com; MinIO: its URL; unset for AWS. */
  endpoint?: string;
  /** (Default: auto) */
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style URLs (MinIO, the test fake). (Default: true) */
  forcePathStyle?: boolean;
  /** Where files wait before upload. (Default: the OS temp directory) */
  stagingDir?: string;
}

export function s3Destination(o: S3Options): BackupDestination {
  // The SDK (~20 MB resident) is loaded on first use: a process that never backs up to
  // S3 in its lifetime (most replicas, most of the day) does not carry it.
  let sdk: Promise<{ client: S3.S3Client; s3: typeof S3 }> | undefined;
  const load = () =>
    (sdk ??= import('@aws-sdk/client-s3').then((s3) => ({
      s3,
      client: new s3.S3Client({
        endpoint: o.endpoint,
        region: o.region ?? 'auto',
        forcePathStyle: o.forcePathStyle ?? true,
        credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
        // R2 and MinIO do not all accept the SDK's streaming (aws-chunked) checksums.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    })));
  const prefix = (o.prefix ?? 'opsloop-backups').replace(/\/+$/, '');
  const key = (name: string, file: string) => `${prefix}/${name}/${file}`;
  return {
    kind: 's3',
    stagingDir: () => o.stagingDir ?? os.tmpdir(),
    location: (name) => `s3://${o.bucket}/${prefix}/${name}/`,
    async put(name, file, localPath) {
      const { size } = await fsp.stat(localPath);
      const { client, s3 } = await load();
      await client.send(
        new s3.PutObjectCommand({ Bucket: o.bucket, Key: key(name, file), Body: fs.createReadStream(localPath), ContentLength: size }),
      );
    },
    async read(name, file) {
      const { client, s3 } = await load();
      const out = await client.send(new s3.GetObjectCommand({ Bucket: o.bucket, Key: key(name, file) }));
      return out.Body as Readable;
    },
    async list() {
      const { client, s3 } = await load();
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new s3.ListObjectsV2Command({ Bucket: o.bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
        for (const obj of page.Contents ?? []) {
          const rest = obj.Key!.slice(prefix.length + 1);
          const [name, file] = rest.split('/');
          if (file === MANIFEST_FILE && name) names.push(name);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return names.sort();
    },
    async remove(name) {
      const { client, s3 } = await load();
      let token: string | undefined;
      do {
        const page = await client.send(new s3.ListObjectsV2Command({ Bucket: o.bucket, Prefix: `${prefix}/${name}/`, ContinuationToken: token }));
        // Manifest first: a half-deleted backup must not look complete.
        const keys = (page.Contents ?? []).map((c) => c.Key!).sort((a, b) => Number(b.endsWith(MANIFEST_FILE)) - Number(a.endsWith(MANIFEST_FILE)));
        for (const k of keys) await client.send(new s3.DeleteObjectCommand({ Bucket: o.bucket, Key: k }));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
  };
}
