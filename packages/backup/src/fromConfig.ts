import type { Config } from '@opsloop/core';
import { localDestination, s3Destination, type BackupDestination } from './destinations.ts';

/** BACKUP_S3_* when a bucket is set, otherwise BACKUP_DIR. */
export function destinationFromConfig(
  c: Pick<Config, 'BACKUP_DIR' | 'BACKUP_S3_BUCKET' | 'BACKUP_S3_ENDPOINT' | 'BACKUP_S3_REGION' | 'BACKUP_S3_ACCESS_KEY_ID' | 'BACKUP_S3_SECRET_ACCESS_KEY' | 'BACKUP_S3_PREFIX' | 'BACKUP_S3_FORCE_PATH_STYLE'>,
): BackupDestination {
  if (!c.BACKUP_S3_BUCKET) return localDestination(c.BACKUP_DIR);
  return s3Destination({
    bucket: c.BACKUP_S3_BUCKET,
    endpoint: c.BACKUP_S3_ENDPOINT,
    region: c.BACKUP_S3_REGION,
    accessKeyId: c.BACKUP_S3_ACCESS_KEY_ID!,
    secretAccessKey: c.BACKUP_S3_SECRET_ACCESS_KEY!,
    prefix: c.BACKUP_S3_PREFIX,
    forcePathStyle: c.BACKUP_S3_FORCE_PATH_STYLE,
  });
}
